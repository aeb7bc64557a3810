import ArgumentParser

@main
struct OZmapctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ozmapctl",
        abstract: "Talk to ozmapd over its Unix socket.",
        discussion: "The exit code is the call's gRPC status code: 0 OK, 3 INVALID_ARGUMENT, 5 NOT_FOUND, 14 UNAVAILABLE, ... "
            + "(onu import: 65 EX_DATAERR when any row is an ERROR; doctor: 69 EX_UNAVAILABLE when any check fails).",
        version: "0.2.0",
        subcommands: [Status.self, Methods.self, Call.self, CredentialsCommand.self, OZmapCommand.self, OLTCommand.self,
                      BoxesCommand.self, SyncCommand.self, ONUCommand.self, OpsCommand.self, LogCommand.self,
                      ReconcileCommand.self, DoctorCommand.self, MetricsCommand.self]
    )
}
