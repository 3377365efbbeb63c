import Cluster
import Foundation
import Runbook
import Sessions

/// A real cluster from its inventory file.
func realTarget(_ spec: TargetSpec) throws -> Target {
    throw RunbookError.usage("real clusters are not available in this build")
}
