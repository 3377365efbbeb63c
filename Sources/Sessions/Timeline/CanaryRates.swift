import Runbook

/// The canary's rates between consecutive samples (`canary_sample` entries hold running totals).
///
/// A resume starts a new canary whose totals count from zero again: a sample whose totals went
/// down starts a new series rather than a negative rate.
enum CanaryRates {
    static func intervals(_ entries: [JournalEntry], times: [Double]) -> [Timeline.CanaryInterval] {
        var out: [Timeline.CanaryInterval] = []
        var previous: (t: Double, sample: JournalEvent.CanarySample)?
        for (e, t) in zip(entries, times) {
            guard case .canarySample(let s) = e.event else {
                if case .resumed = e.event { previous = nil }
                continue
            }
            defer { previous = (t, s) }
            guard let p = previous, s.published >= p.sample.published, t > p.t else { continue }
            let dt = t - p.t
            let published = s.published - p.sample.published
            let confirmed = max(0, s.confirmed - p.sample.confirmed)
            out.append(Timeline.CanaryInterval(from: p.t, to: t, publish: Double(published) / dt,
                                               confirm: Double(confirmed) / dt,
                                               consume: Double(max(0, s.consumed - p.sample.consumed)) / dt,
                                               failed: max(0, published - confirmed)))
        }
        return out
    }
}
