import Runbook
