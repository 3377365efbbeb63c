// The line editor.
import CShims
