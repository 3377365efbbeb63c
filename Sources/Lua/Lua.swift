// The Lua runtime.
import CShims
