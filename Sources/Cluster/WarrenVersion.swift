/// This build of warren: what `warren --version` prints and what its state files and snapshots
/// are stamped with, so that an older warren refusing a newer file can name the one that wrote it.
public enum WarrenVersion {
    /// No release has been published yet: 0.x, the minor following the project's issue series.
    public static let current = "0.14.0"
}
