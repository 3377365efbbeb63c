import Cluster
import Foundation
import Testing
@testable import Simulator

/// The error a call throws, or nil.
func failure(_ body: () throws -> Void) -> ClusterError? {
    do {
        try body()
        return nil
    } catch let e as ClusterError {
        return e
    } catch {
        Issue.record("unexpected error type \(error)")
        return nil
    }
}

func queue(_ sim: Simulator, _ name: String) throws -> QueueInfo {
    let found = try sim.queues(type: nil).first { $0.name == name }
    return try #require(found)
}

func qq(_ name: String, on node: String? = nil, size: Int? = nil, locator: LeaderLocator = .clientLocal) -> QueueSpec {
    QueueSpec(name: name, type: .quorum, node: node, initialGroupSize: size, leaderLocator: locator)
}

func restart(_ sim: Simulator, _ node: String) throws {
    try sim.stop(node)
    try sim.start(node)
    try sim.awaitRunning(node, timeout: 300)
}

// MARK: Quorum queues

@Test("Quorum queue replica count is x-quorum-initial-group-size or 3, capped at the cluster size")
func replicaCount() throws {
    let sim = Simulator(nodes: 5)
    try sim.declareQueue(qq("default", on: "n1"))
    try sim.declareQueue(qq("five", on: "n1", size: 5))
    try sim.declareQueue(qq("seven", on: "n1", size: 7))
    #expect(try queue(sim, "default").members.count == 3)
    #expect(try queue(sim, "five").members.count == 5)
    #expect(try queue(sim, "seven").members.count == 5)
    let small = Simulator(nodes: 2)
    try small.declareQueue(qq("q", on: "n2"))
    #expect(try queue(small, "q").members.count == 2)
}

@Test("Replicas go to the declaring node, then running nodes, then nodes with the fewest replicas")
func replicaPlacement() throws {
    let sim = Simulator(nodes: 5)
    try sim.stop("n2")
    try sim.declareQueue(qq("a", on: "n3"))
    let a = try queue(sim, "a")
    #expect(a.members.first == "rabbit@n3")
    #expect(!a.members.contains("rabbit@n2"))
    // n1 and n4 now hold one replica each more than n5: the next queue prefers n5.
    try sim.declareQueue(qq("b", on: "n1", size: 2))
    #expect(try queue(sim, "b").members == ["rabbit@n1", "rabbit@n5"])
}

@Test("client-local puts the leader on the declaring node")
func clientLocalLeader() throws {
    let sim = Simulator(nodes: 3)
    for k in 1...6 { try sim.declareQueue(qq("q\(k)", on: "n2")) }
    #expect(try sim.queues(type: .quorum).allSatisfy { $0.leader == "rabbit@n2" })
}

@Test("balanced puts the leader on the node with the fewest leaders")
func balancedLeader() throws {
    let sim = Simulator(nodes: 3)
    for k in 1...6 { try sim.declareQueue(qq("q\(k)", on: "n1", locator: .balanced)) }
    let leaders = try sim.nodes().map(\.leaders)
    #expect(leaders == [2, 2, 2])
}

@Test("Leader choice skips drained nodes and prefers running replicas")
func leaderSkipsDrained() throws {
    let sim = Simulator(nodes: 3)
    for k in 1...5 { try sim.declareQueue(qq("q\(k)", on: "n1")) }
    try sim.drain("n1")
    let qs = try sim.queues(type: .quorum)
    #expect(qs.allSatisfy { $0.leader != "rabbit@n1" && $0.available })
    #expect(qs.allSatisfy { !$0.online.contains("rabbit@n1") })
    try sim.stop("n2")
    #expect(try sim.queues(type: .quorum).allSatisfy { $0.leader == "rabbit@n3" || !$0.available })
    #expect(sim.consistencyViolations().isEmpty)
}

@Test("Leaders do not move back on their own")
func leadersStay() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n1"))
    try restart(sim, "n1")
    sim.sleep(3600)
    let q = try queue(sim, "q")
    #expect(q.leader != "rabbit@n1")
    #expect(q.online.count == 3)
}

@Test("A quorum queue is available only while a majority of its members is up")
func majorityAvailability() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.stop("n2")
    #expect(try queue(sim, "q").available)
    try sim.stop("n3")
    #expect(try !queue(sim, "q").available)
    #expect(failure { try sim.publish(queue: "q", count: 1) }?.code == .unavailable)
    try sim.start("n3")
    try sim.awaitRunning("n3", timeout: 300)
    #expect(try queue(sim, "q").available)
    let loss = try #require(sim.invariants().majorityLosses.first)
    #expect(loss.queue == "q" && loss.seconds > 0)
}

@Test("When the leader stops and a majority is left, a follower is elected")
func followerElected() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.publish(queue: "q", count: 5)
    try sim.stop("n1")
    let q = try queue(sim, "q")
    #expect(q.available && q.leader != nil && q.leader != "rabbit@n1")
    #expect(try sim.consume(queue: "q", max: 10) == 5)
    #expect(sim.invariants().majorityLosses.isEmpty)
}

@Test("Membership changes need a majority")
func membershipNeedsMajority() throws {
    let sim = Simulator(nodes: 5)
    try sim.declareQueue(qq("q", on: "n1"))   // n1, n2, n3
    try sim.kill("n2")
    try sim.kill("n3")
    #expect(try sim.grow("n4", strategy: .all).isEmpty)
    #expect(try sim.shrink("n2").isEmpty)
    #expect(try queue(sim, "q").members.count == 3)
}

@Test("A node is quorum-critical when online members <= members/2 + 1; 1- and 2-replica queues always are")
func quorumCritical() throws {
    let sim = Simulator(nodes: 5)
    try sim.declareQueue(qq("three", on: "n1", size: 3))
    try sim.declareQueue(qq("five", on: "n1", size: 5))
    try sim.declareQueue(qq("one", on: "n1", size: 1))
    try sim.declareQueue(qq("two", on: "n1", size: 2))
    #expect(try sim.quorumCritical("n1") == ["one", "two"])
    try sim.stop("n5")
    #expect(try sim.quorumCritical("n1") == ["one", "two"])       // five: 4 online > 3
    try sim.stop("n4")
    #expect(try sim.quorumCritical("n1") == ["five", "one", "two"]) // five: 3 online <= 3
    try sim.stop("n3")
    #expect(try sim.quorumCritical("n1") == ["three", "five", "one", "two"])
}

@Test("A drained node passes the quorum-critical check")
func drainedPasses() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n1", size: 2))
    #expect(try sim.quorumCritical("n1") == ["q"])
    try sim.drain("n1")
    #expect(try sim.quorumCritical("n1").isEmpty)
}

// MARK: Classic queues and streams

@Test("A classic queue lives on its declaring node")
func classicHome() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(QueueSpec(name: "c", type: .classic, node: "n2"))
    let c = try queue(sim, "c")
    #expect(c.leader == "rabbit@n2" && c.members == ["rabbit@n2"])
}

@Test("Node down: a durable classic queue is unavailable, a non-durable one is deleted")
func classicNodeDown() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(QueueSpec(name: "durable", type: .classic, durable: true, node: "n2"))
    try sim.declareQueue(QueueSpec(name: "transient", type: .classic, durable: false, node: "n2"))
    try sim.publish(queue: "durable", count: 3)
    try sim.stop("n2")
    #expect(try !queue(sim, "durable").available)
    #expect(try sim.queues(type: .classic).map(\.name) == ["durable"])
    try sim.start("n2")
    try sim.awaitRunning("n2", timeout: 300)
    #expect(try queue(sim, "durable").messages == 3)
}

@Test("Publishing to a classic queue whose node is down is not an error: unroutable, confirmed and dropped; mandatory returns it")
func classicUnroutable() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(QueueSpec(name: "c", type: .classic, node: "n2"))
    try sim.stop("n2")
    #expect(try sim.publish(queue: "c", count: 4, mandatory: false) == 4)   // confirmed, as a client sees it
    #expect(sim.invariants().lostMessages["c"] == 4)                        // and lost: confirmed, never consumable
    #expect(try sim.publish(queue: "c", count: 2, mandatory: true) == 0)    // returned: the client knows
    #expect(sim.invariants().lostMessages["c"] == 4)
    try sim.start("n2")
    try sim.awaitRunning("n2", timeout: 300)
    #expect(try queue(sim, "c").messages == 0)
}

@Test("A graceful reset deletes the durable classic queues homed on the node, with their messages; quorum memberships stay listed")
func classicReset() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(QueueSpec(name: "c", type: .classic, node: "n3"))
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.publish(queue: "c", count: 7)
    try sim.stopApp("n3")
    try sim.reset("n3")
    #expect(sim.invariants().lostMessages["c"] == 7)
    #expect(try !sim.queues(type: nil).map(\.name).contains("c"))
    #expect(try queue(sim, "q").members.contains("rabbit@n3"))
}

@Test("join_cluster leaves the old cluster first: a node's durable classic queues are deleted when it joins another")
func joinDeletesClassicQueues() throws {
    let sim = Simulator(nodes: 3, formed: false)
    try sim.declareQueue(QueueSpec(name: "own", type: .classic, node: "n2"))
    try sim.stopApp("n2")
    try sim.join("n2", seed: "n1")
    #expect(try !sim.queues(type: nil).map(\.name).contains("own"))
}

@Test("Streams have replicas on all nodes and need a quorum of them")
func streams() throws {
    let sim = Simulator(nodes: 5)
    try sim.declareQueue(QueueSpec(name: "s", type: .stream, node: "n1"))
    #expect(try queue(sim, "s").members.count == 5)
    try sim.stop("n1")
    try sim.stop("n2")
    #expect(try queue(sim, "s").available)
    try sim.stop("n3")
    #expect(try !queue(sim, "s").available)
}

// MARK: CLI errors

@Test("join_cluster, reset and force_reset require the app stopped (exit 64)")
func appMustBeStopped() throws {
    let sim = Simulator(nodes: 2, spares: 1)
    for e in [failure { try sim.join("n3", seed: "n1") }, failure { try sim.reset("n1") }, failure { try sim.forceReset("n1") }] {
        #expect(e?.code == .usage)
        #expect(e?.message == "this command requires the 'rabbit' app to be stopped on the target node")
    }
}

@Test("Joining a node to itself fails with exit 70")
func joinSelf() throws {
    let sim = Simulator(nodes: 3)
    try sim.stopApp("n1")
    let e = failure { try sim.join("n1", seed: "rabbit@n1") }
    #expect(e?.code == .software)
    #expect(e?.message.contains("cannot cluster node with itself") == true)
}

@Test("A node that is down gives 69, a timed-out wait 75, an unknown node lists the known ones")
func exitCodes() throws {
    let sim = Simulator(nodes: 3)
    try sim.stop("n2")
    #expect(failure { try sim.stopApp("n2") }?.code == .unavailable)
    #expect(try sim.ping("n2") == false)
    try sim.slowBoot("n3", seconds: 100)
    try sim.stop("n3")
    try sim.start("n3")
    #expect(failure { try sim.awaitRunning("n3", timeout: 10) }?.code == .timeout)
    let e = failure { _ = try sim.resolve("n9") }
    #expect(e?.message.contains("rabbit@n1, rabbit@n2, rabbit@n3") == true)
    #expect(try sim.resolve("n2") == "rabbit@n2")
}

@Test("Cookie mismatch: the CLI fails with 69 and the node cannot join")
func cookieMismatch() throws {
    let sim = Simulator(nodes: 3, spares: 1)
    try sim.changeCookie("n4")
    #expect(failure { try sim.stopApp("n4") }?.code == .unavailable)
    #expect(failure { try sim.stopApp("n4") }?.message.contains("cookie") == true)
    #expect(try sim.nodes()[3].state == .unreachable)
    try sim.restoreCookie("n4")
    try sim.stopApp("n4")
    try sim.changeCookie("n4")
    #expect(failure { try sim.join("n4", seed: "n1") }?.code == .unavailable)
    #expect(try sim.preflight().contains { $0.name == "erlang cookie" && $0.outcome == .pass })
    // A member whose cookie changes drops out: its peers elect leaders elsewhere.
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.changeCookie("n1")
    #expect(try queue(sim, "q").leader != "rabbit@n1")
    #expect(try !sim.status().running.contains("rabbit@n1"))
    #expect(try sim.preflight().contains { $0.name == "erlang cookie" && $0.outcome == .fail })
}

@Test("An unresolvable hostname: the node cannot be reached or join")
func unresolvable() throws {
    let sim = Simulator(nodes: 3, spares: 1)
    try sim.stopApp("n4")
    try sim.setHostnameResolvable("n4", false)
    #expect(try sim.ping("n4") == false)
    #expect(failure { try sim.join("n4", seed: "n1") }?.code == .unavailable)
    #expect(try sim.preflight().contains { $0.name == "hostname resolution" && $0.outcome == .fail })
}

@Test("Nodes of different RabbitMQ minors cluster; a different Erlang major cannot join")
func versionMismatch() throws {
    let sim = Simulator(nodes: 3, spares: 2)
    try sim.setVersions("n4", rabbitmq: "3.11.2", erlang: "25.2.1")
    try sim.stopApp("n4")
    try sim.join("n4", seed: "n1")
    try sim.startApp("n4")
    #expect(try sim.status().running.contains("rabbit@n4"))
    // Mixed releases are for a rolling upgrade only: preflight fails on them unless one is under way.
    #expect(try sim.preflight().contains { $0.name == "same versions" && $0.outcome == .fail })
    sim.upgradeUnderWay = { UpgradeUnderWay(session: "s1", target: "3.11.2") }
    #expect(try sim.preflight().contains { $0.name == "same versions" && $0.outcome == .warn && $0.detail.contains("warren resume s1") })
    try sim.setVersions("n5", rabbitmq: "3.10.8", erlang: "26.0")
    try sim.stopApp("n5")
    let e = failure { try sim.join("n5", seed: "n1") }
    #expect(e?.code == .unavailable && e?.message.contains("Erlang") == true)
}

// MARK: Restarts

@Test("start returns once the VM answers ping; the app boots afterwards")
func startIsAsynchronous() throws {
    let sim = Simulator(nodes: 3)
    try sim.stop("n1")
    try sim.start("n1")
    #expect(try sim.ping("n1"))
    #expect(try sim.nodes()[0].state == .booting)
    #expect(try !sim.health("n1")[0].ok)
    try sim.awaitRunning("n1", timeout: 300)
    #expect(try sim.nodes()[0].state == .running)
}

@Test("A restarted node remembers its peers, rejoins and syncs from a running peer")
func restartSyncs() throws {
    let sim = Simulator(nodes: 3, spares: 1)
    try sim.stop("n3")
    try sim.stopApp("n4")
    try sim.join("n4", seed: "n1")
    try sim.startApp("n4")
    try sim.start("n3")
    try sim.awaitRunning("n3", timeout: 300)
    #expect(try sim.nodes()[2].members == ["rabbit@n1", "rabbit@n2", "rabbit@n3", "rabbit@n4"])
    #expect(sim.invariants().converged)
}

@Test("A node whose peers are all down and that did not stop last waits 10 x 30 s, then fails to boot")
func waitsThenFails() throws {
    let sim = Simulator(nodes: 3)
    try sim.stop("n1")
    try sim.stop("n2")
    try sim.stop("n3")
    try sim.start("n1")
    let started = sim.now()
    let e = failure { try sim.awaitRunning("n1", timeout: 600) }
    #expect(e?.code == .unavailable)
    #expect(e?.message.contains("Timeout contacting cluster nodes") == true)
    #expect(sim.now() - started >= 300 && sim.now() - started < 320)
    #expect(sim.eventLog.filter { $0.contains("retries left") }.count == 10)
    #expect(try sim.ping("n1") == false)
    // Asked again later, the reason is still given.
    #expect(failure { try sim.awaitRunning("n1", timeout: 10) }?.message.contains("Timeout contacting cluster nodes") == true)
}

@Test("The last node to stop boots at once, and the others follow it")
func lastStoppedBoots() throws {
    let sim = Simulator(nodes: 3)
    try sim.stop("n1")
    try sim.stop("n2")
    try sim.stop("n3")
    try sim.start("n1")            // not last: waits
    try sim.start("n3")            // last: boots at once
    let t = sim.now()
    try sim.awaitRunning("n3", timeout: 30)
    #expect(sim.now() - t < 10)
    try sim.awaitRunning("n1", timeout: 30)
    try sim.start("n2")
    try sim.awaitRunning("n2", timeout: 30)
    #expect(sim.invariants().converged)
}

@Test("force_boot makes the next boot skip the wait")
func forceBoot() throws {
    let sim = Simulator(nodes: 3)
    for n in ["n1", "n2", "n3"] { try sim.stop(n) }
    try sim.forceBoot("n1")
    try sim.start("n1")
    try sim.awaitRunning("n1", timeout: 30)
    try sim.stop("n1")
    try sim.start("n2")   // force_boot was used up by n1; n2 was not last
    #expect(failure { try sim.awaitRunning("n2", timeout: 400) }?.code == .unavailable)
}

@Test("A forgotten node booting without reset fails with inconsistent_cluster and does not rejoin")
func inconsistentCluster() throws {
    let sim = Simulator(nodes: 3)
    try sim.stop("n3")
    try sim.forget("n3", from: "n1", offline: false)
    try sim.start("n3")
    let e = failure { try sim.awaitRunning("n3", timeout: 300) }
    #expect(e?.message.contains("Node rabbit@n3 thinks it's clustered with node rabbit@n1, but rabbit@n1 disagrees") == true)
    #expect(try sim.status().members == ["rabbit@n1", "rabbit@n2"])
}

@Test("A graceful reset with every peer down fails: 'You cannot leave a cluster if no online nodes are present'")
func resetNeedsOnlinePeer() throws {
    let sim = Simulator(nodes: 3)
    try sim.stop("n2")
    try sim.stop("n3")
    try sim.stopApp("n1")
    let e = failure { try sim.reset("n1") }
    #expect(e?.message == "You cannot leave a cluster if no online nodes are present.")
    try sim.forceReset("n1")
    #expect(try sim.nodes()[0].members == ["rabbit@n1"])
    #expect(try sim.nodes()[1].members.contains("rabbit@n1"))
}

@Test("Online forget shrinks quorum queues off the node; offline forget does not")
func forgetShrinks() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.declareQueue(QueueSpec(name: "s", type: .stream, node: "n1"))
    try sim.stopApp("n3")
    try sim.forget("n3", from: "n1", offline: false)
    #expect(try queue(sim, "q").members == ["rabbit@n1", "rabbit@n2"])
    #expect(try queue(sim, "s").members.count == 3)     // streams are not shrunk

    let off = Simulator(nodes: 3)
    try off.declareQueue(qq("q", on: "n1"))
    for n in ["n1", "n2", "n3"] { try off.stop(n) }
    #expect(failure { try off.forget("n3", from: "n3", offline: true) }?.code == .unavailable)
    try off.forget("n3", from: "n1", offline: true)
    #expect(try queue(off, "q").members.count == 3)
    try off.start("n1")   // the offline forget forces its next boot
    try off.awaitRunning("n1", timeout: 30)
    #expect(try off.status().members == ["rabbit@n1", "rabbit@n2"])
}

@Test("Forgetting a node whose app runs fails: it must be stopped with stop_app first")
func forgetRunning() throws {
    let sim = Simulator(nodes: 3)
    let e = failure { try sim.forget("n3", from: "n1", offline: false) }
    #expect(e?.message == "RabbitMQ on node rabbit@n3 must be stopped with 'rabbitmqctl -n rabbit@n3 stop_app' before it can be removed")
}

@Test("A completed boot clears maintenance; revive clears it without a restart")
func bootClearsMaintenance() throws {
    let sim = Simulator(nodes: 3)
    try sim.drain("n2")
    #expect(try sim.status().maintenance == ["rabbit@n2"])
    try restart(sim, "n2")
    #expect(try sim.status().maintenance.isEmpty)
    try sim.drain("n3")
    try sim.revive("n3")
    #expect(try !sim.nodes()[2].underMaintenance)
}

// MARK: Partitions and alarms

@Test("Under ignore, a partition persists (split brain) and quorum queues elect leaders on the majority side")
func partitionIgnore() throws {
    let sim = Simulator(nodes: 3, partitionHandling: .ignore)
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.partition(["n1"], ["n2", "n3"])
    let q = try queue(sim, "q")
    #expect(q.available && q.leader != "rabbit@n1")
    #expect(try sim.status().partitions["rabbit@n1"] == ["rabbit@n2", "rabbit@n3"])
    #expect(try sim.nodes().allSatisfy { $0.state == .running })
    try sim.heal()
    #expect(!sim.invariants().converged)            // still listed until a side restarts
    try restart(sim, "n1")
    #expect(sim.invariants().converged)
}

@Test("Under pause_minority, the minority side pauses and resumes when the partition heals")
func partitionPauseMinority() throws {
    let sim = Simulator(nodes: 3, partitionHandling: .pauseMinority)
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.partition(["n1"], ["n2", "n3"])
    #expect(try sim.nodes()[0].state == .appStopped)
    #expect(try sim.nodes()[1].state == .running)
    #expect(try queue(sim, "q").available)
    try sim.heal()
    try sim.awaitRunning("n1", timeout: 60)
    #expect(sim.invariants().converged)
}

@Test("Under autoheal, the losing side restarts when the partition heals")
func partitionAutoheal() throws {
    let sim = Simulator(nodes: 3, partitionHandling: .autoheal)
    try sim.partition(["n3"], ["n1", "n2"])
    #expect(try sim.nodes()[2].state == .running)
    try sim.heal()
    #expect(try sim.nodes()[2].state == .booting)
    try sim.awaitRunning("n3", timeout: 60)
    #expect(sim.eventLog.contains { $0.hasSuffix("n3 autoheal: restarting") })
    #expect(sim.invariants().converged)
}

@Test("Memory and disk alarms block publishers and fail the local alarms check")
func alarms() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.setAlarm("n2", "memory", raised: true)
    #expect(failure { try sim.publish(queue: "q", count: 1) }?.code == .timeout)
    #expect(try sim.health("n2").first { $0.name == "check_local_alarms" }?.ok == false)
    #expect(try sim.status().alarms == ["rabbit@n2": ["memory"]])
    #expect(failure { try sim.setAlarm("n2", "cpu", raised: true) }?.code == .usage)
    try sim.setAlarm("n2", "memory", raised: false)
    #expect(try sim.publish(queue: "q", count: 1) == 1)
}

// MARK: Queue operations, messages, reports

@Test("grow adds the node to quorum queues, shrink removes it, rebalance evens the leaders")
func growShrinkRebalance() throws {
    let sim = Simulator(nodes: 3, spares: 1)
    for k in 1...8 { try sim.declareQueue(qq("q\(k)", on: "n1")) }
    try sim.stopApp("n4")
    try sim.join("n4", seed: "n1")
    try sim.startApp("n4")
    #expect(try sim.nodes()[3].replicas == 0)   // new nodes get no replicas by themselves
    #expect(try sim.grow("n4", strategy: .all).count == 8)
    #expect(try sim.shrink("n4").count == 8)
    #expect(try sim.grow("n4", strategy: .even).isEmpty)  // every queue has 3 members
    try sim.rebalance("quorum")
    let leaders = try sim.nodes().prefix(3).map(\.leaders)
    #expect(leaders.max()! - leaders.min()! <= 1)
    // An unknown type fails the CLI's validation as `stream` does on 3.10.8: exit 69
    // (rebalance_command.ex@v3.10.8 `validate/2`).
    let unknown = failure { try sim.rebalance("mirrors") }
    #expect(unknown?.code == .unavailable && unknown?.message == "Error: type mirrors is not supported. Try one of all, classic, quorum.")
}

@Test("Publishing with confirms counts confirmed messages; consumed messages are not lost")
func publishConsume() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n1"))
    #expect(try sim.publish(queue: "q", count: 10) == 10)
    #expect(try sim.consume(queue: "q", max: 4) == 4)
    #expect(try queue(sim, "q").messages == 6)
    #expect(sim.invariants().lostMessages.isEmpty && sim.invariants().safe)
    #expect(failure { try sim.publish(queue: "nope", count: 1) }?.code == .dataError)
}

@Test("A lost disk loses the node's data; messages are lost only when every replica is gone")
func loseDisk() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.publish(queue: "q", count: 5)
    try sim.loseDisk("n1")
    #expect(sim.invariants().lostMessages.isEmpty)
    try sim.loseDisk("n2")
    try sim.loseDisk("n3")
    #expect(sim.invariants().lostMessages["q"] == 5)
}

@Test("preflight, health and exportDefinitions report like RabbitMQ")
func reports() throws {
    let two = Simulator(nodes: 2)
    let pre = try two.preflight()
    #expect(pre.contains { $0.name == "not two nodes" && $0.outcome == .warn })
    #expect(pre.contains { $0.name == "odd node count" && $0.outcome == .warn })
    two.setFeatureFlag("maintenance_mode_status", enabled: false)
    #expect(try two.preflight().contains { $0.name == "feature flags" && $0.outcome == .fail })
    let sim = Simulator(nodes: 3)
    #expect(try sim.preflight().allSatisfy { $0.outcome == .pass })
    #expect(try sim.health("n1").map(\.name) == ["check_running", "check_local_alarms", "check_port_connectivity", "check_virtual_hosts"])
    #expect(try sim.health("n1").allSatisfy(\.ok))
    try sim.declareDemoSet()
    let path = NSTemporaryDirectory() + "warren-defs-\(getpid()).json"
    try sim.exportDefinitions(to: path)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    let queues = try #require(json["queues"] as? [[String: Any]])
    #expect(queues.count == 5)
    #expect((queues.first?["arguments"] as? [String: Any])?["x-queue-type"] as? String == "quorum")
    try? FileManager.default.removeItem(atPath: path)
}

@Test("An unformed simulator has standalone nodes that can be clustered; spares are named after the members")
func unformedAndSpares() throws {
    let sim = Simulator(nodes: 3, formed: false, spares: 1)
    #expect(sim.nodeNames == ["rabbit@n1", "rabbit@n2", "rabbit@n3", "rabbit@n4"])
    #expect(try sim.nodes().allSatisfy { $0.members == [$0.name] })
    for n in ["n2", "n3"] {
        try sim.stopApp(n)
        try sim.reset(n)
        try sim.join(n, seed: "n1")
        try sim.startApp(n)
    }
    #expect(try sim.status().running == ["rabbit@n1", "rabbit@n2", "rabbit@n3"])
    #expect(sim.invariants().converged)
}

@Test("A node killed last still boots first (Mnesia decides who stopped last)")
func killedLastBootsFirst() throws {
    let sim = Simulator(nodes: 3)
    try sim.stop("n1")
    try sim.stop("n2")
    try sim.kill("n3")
    try sim.start("n3")
    try sim.awaitRunning("n3", timeout: 60)
    // A node killed while its peers ran is not last: it waits for them.
    let other = Simulator(nodes: 3)
    try other.kill("n3")
    try other.stop("n1")
    try other.stop("n2")
    try other.start("n3")
    let e = failure { try other.awaitRunning("n3", timeout: 400) }
    #expect(e?.message.contains("Timeout contacting cluster nodes") == true)
}

@Test("sleep advances the virtual clock and processes scheduled events")
func sleepProcessesEvents() throws {
    let sim = Simulator(nodes: 3)
    try sim.stop("n2")
    try sim.start("n2")
    let t = sim.now()
    sim.sleep(30)
    #expect(sim.now() == t + 30)
    #expect(try sim.nodes()[1].state == .running)
    #expect(sim.eventLog.last?.hasSuffix("n2 app running") == true)
}

@Test("Under pause_minority, the last node left pauses, is recorded as last, and the cluster restarts from it")
func pauseMinorityShutdown() throws {
    let sim = Simulator(nodes: 3, partitionHandling: .pauseMinority)
    try sim.stop("n1")
    try sim.stop("n2")
    #expect(try sim.nodes()[2].state == .appStopped)
    try sim.stop("n3")
    try sim.start("n3")
    try sim.start("n1")
    try sim.awaitRunning("n1", timeout: 60)
    try sim.awaitRunning("n3", timeout: 60)
    try sim.start("n2")
    try sim.awaitRunning("n2", timeout: 60)
    #expect(sim.invariants().converged)
}

@Test("A node removed by stop_app, reset, start_app becomes standalone and no longer speaks for the cluster")
func removedNodeIsStandalone() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n2"))
    try sim.stopApp("n1")
    try sim.reset("n1")
    try sim.startApp("n1")
    #expect(try sim.status().members == ["rabbit@n2", "rabbit@n3"])
    #expect(try sim.nodes()[0].members == ["rabbit@n1"])
    // reset does not shrink quorum queues (only forget_cluster_node does): n1's replica is gone,
    // and a standalone node is no follower.
    let q = try queue(sim, "q")
    #expect(q.members.contains("rabbit@n1") && !q.online.contains("rabbit@n1"))
    #expect(try sim.shrink("n1") == ["q"])
    #expect(sim.invariants().converged)
}


// MARK: Rules corrected against RabbitMQ 3.10.8 (rabbitmq.md section 3)

@Test("Two quorum checks differ on a drained node: check_if_node_is_quorum_critical passes, await_online_quorum_plus_one times out with 69")
func twoQuorumChecksOnDrainedNode() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n2"))
    try sim.awaitOnlineQuorumPlusOne("n1", timeout: 10)
    try sim.drain("n1")
    #expect(try sim.quorumCritical("n1").isEmpty)
    let e = failure { try sim.awaitOnlineQuorumPlusOne("n1", timeout: 10) }
    #expect(e?.code == .unavailable && e?.message.contains("q") == true)
}

@Test("grow onto a node whose app is stopped, or that is not a member, exits 0 and grows nothing")
func growOntoStoppedApp() throws {
    let sim = Simulator(nodes: 3, spares: 1)
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.stopApp("n3")
    #expect(try sim.grow("n3", strategy: .all) == [])
    #expect(try sim.grow("n4", strategy: .all) == [])   // a standalone spare
}

@Test("rebalance takes all, classic and quorum; stream is refused with 69")
func rebalanceKinds() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n1"))
    for kind in ["all", "classic", "quorum"] { try sim.rebalance(kind) }
    let e = failure { try sim.rebalance("stream") }
    #expect(e?.code == .unavailable && e?.message.contains("type stream is not supported") == true)
}

@Test("Errors the server returns exit 69: forget of a running node, a node not in the cluster, leaving with no online peer")
func serverSideErrors() throws {
    let sim = Simulator(nodes: 3, spares: 1)
    #expect(failure { try sim.forget("n3", from: "n1", offline: false) }?.code == .unavailable)
    #expect(failure { try sim.forget("n4", from: "n1", offline: false) }?.code == .unavailable)
    let lonely = Simulator(nodes: 3)
    try lonely.stop("n2")
    try lonely.stop("n3")
    try lonely.stopApp("n1")
    #expect(failure { try lonely.reset("n1") }?.code == .unavailable)
}

@Test("A reset node that rejoins is an empty follower that catches up; until then it is online but not in the majority")
func rejoinedNodeCatchesUp() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("q", on: "n1"))
    try sim.publish(queue: "q", count: 200_000)
    try sim.stopApp("n3")
    try sim.reset("n3")
    try sim.join("n3", seed: "n1")
    try sim.startApp("n3")
    var q = try queue(sim, "q")
    #expect(q.online.contains("rabbit@n3") && q.catchingUp == ["rabbit@n3"])
    // n3 does not count yet: with n2 down the queue has no majority until n3 has the log.
    try sim.stop("n2")
    #expect(try !queue(sim, "q").available)
    sim.sleep(60)
    q = try queue(sim, "q")
    #expect(q.catchingUp.isEmpty && q.available && q.messages == 200_000)
}

@Test("A restarted member catches up for a time that grows with the queue's messages")
func restartedMemberCatchesUp() throws {
    let sim = Simulator(nodes: 3)
    try sim.declareQueue(qq("small", on: "n1"))
    try sim.declareQueue(qq("large", on: "n1"))
    try sim.publish(queue: "large", count: 100_000)
    try sim.stop("n3")
    try sim.start("n3")
    try sim.awaitRunning("n3", timeout: 60)
    sim.sleep(1)
    #expect(try queue(sim, "small").catchingUp.isEmpty)
    #expect(try queue(sim, "large").catchingUp == ["rabbit@n3"])
    sim.sleep(20)
    #expect(try queue(sim, "large").catchingUp.isEmpty)
}

@Test("force_boot is refused while the app runs (64); on a stopped node it applies to the next boot only")
func forceBootRefusedOnRunningNode() throws {
    let sim = Simulator(nodes: 3)
    #expect(failure { try sim.forceBoot("n1") }?.code == .usage)
    try sim.stop("n1")
    try sim.forceBoot("n1")
}

@Test("pause_minority reacts to node-down events only: a node that boots into a minority does not pause")
func pauseMinorityOnNodeDownOnly() throws {
    let sim = Simulator(nodes: 3, partitionHandling: .pauseMinority)
    try sim.stop("n1")
    try sim.stop("n2")        // n3 alone: the node-down event pauses it
    #expect(try sim.nodes()[2].state == .appStopped)
    try sim.stop("n3")
    try sim.forceBoot("n2")
    try sim.start("n2")       // boots alone (forced) into a minority of its 3-node view
    try sim.awaitRunning("n2", timeout: 60)
    #expect(try sim.nodes()[1].state == .running)
}

@Test("A node resuming from a pause runs the boot's wait for peers like any boot")
func resumeWaitsLikeAnyBoot() throws {
    let sim = Simulator(nodes: 3, partitionHandling: .pauseMinority)
    try sim.partition(["n1"], ["n2", "n3"])
    #expect(try sim.nodes()[0].state == .appStopped)   // paused
    try sim.heal()
    #expect(sim.eventLog.contains { $0.contains("n1 resuming after pause") })
    #expect(sim.eventLog.contains { $0.contains("n1 app booting") })
    sim.sleep(10)
    #expect(try sim.status().running.contains("rabbit@n1"))
}

@Test("autoheal keeps the side with the most client connections, then the most nodes")
func autohealWinner() throws {
    let sim = Simulator(nodes: 3, partitionHandling: .autoheal)
    try sim.setClientConnections("n1", 10)
    try sim.partition(["n1"], ["n2", "n3"])
    try sim.heal()
    #expect(sim.eventLog.contains { $0.contains("n2 autoheal: restarting") })
    #expect(sim.eventLog.contains { $0.contains("n3 autoheal: restarting") })
    #expect(!sim.eventLog.contains { $0.contains("n1 autoheal: restarting") })
    let fewer = Simulator(nodes: 3, partitionHandling: .autoheal)
    try fewer.partition(["n1"], ["n2", "n3"])
    try fewer.heal()
    #expect(fewer.eventLog.contains { $0.contains("n1 autoheal: restarting") })
}
