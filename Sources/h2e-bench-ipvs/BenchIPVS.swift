import Addressing
import IPVS

#if canImport(Glibc)
import Glibc
#endif

/// Benchmark of the IPVS client (run inside a kernel with IPVS: scripts/bench-ipvs boots one).
///
///   h2e-bench-ipvs program SERVICES DESTINATIONS   program an empty table, print seconds
///   h2e-bench-ipvs edits COUNT                     edit weights of the table's destinations, print edits/s
@main
struct BenchIPVS {
    static func main() async throws {
        let arguments = CommandLine.arguments.dropFirst()
        let client = try IPVSClient()
        switch arguments.first {
        case "program":
            let services = Int(arguments.dropFirst().first ?? "") ?? 1000
            let destinations = Int(arguments.dropFirst(2).first ?? "") ?? 10
            let desired = table(services: services, destinations: destinations)
            let start = ContinuousClock.now
            let changes = IPVSReconciler.changes(from: try await client.table(), to: desired)
            try await client.apply(changes)
            let elapsed = ContinuousClock.now - start
            let readStart = ContinuousClock.now
            let check = IPVSReconciler.changes(from: try await client.table(), to: desired)
            let readElapsed = ContinuousClock.now - readStart
            guard check.isEmpty else { fatalError("table did not converge: \(check.count) changes left") }
            print("h2e program: \(changes.count) changes (\(services) services x \(destinations) destinations) in \(seconds(elapsed)) s")
            print("h2e re-read + reconcile (no-op) of the same table: \(seconds(readElapsed)) s")
        case "edits":
            let count = Int(arguments.dropFirst().first ?? "") ?? 10_000
            let table = try await client.table()
            let targets = table.services.flatMap { service in service.destinations.map { (service.key, $0) } }
            guard !targets.isEmpty else { fatalError("program a table first") }
            let start = ContinuousClock.now
            for index in 0..<count {
                var (key, destination) = targets[index % targets.count]
                destination.weight = 1 + (index / targets.count + 1) % 100
                try await client.updateDestination(destination, in: key)
            }
            let elapsed = ContinuousClock.now - start
            print("h2e weight edits, one call each: \(count) in \(seconds(elapsed)) s = \(Int(Double(count) / seconds(elapsed))) edits/s")
            // As the director does it: one reconcile pass hands the actor a list of edits.
            let changes = (0..<count).map { index -> IPVSChange in
                let (key, old) = targets[index % targets.count]
                var destination = old
                destination.weight = 101 + (index / targets.count) % 100
                return .updateDestination(key, destination, previous: old)
            }
            let batchStart = ContinuousClock.now
            try await client.apply(changes)
            let batchElapsed = ContinuousClock.now - batchStart
            print("h2e weight edits, one apply: \(count) in \(seconds(batchElapsed)) s = \(Int(Double(count) / seconds(batchElapsed))) edits/s")
        default:
            print("usage: h2e-bench-ipvs program SERVICES DESTINATIONS | edits COUNT")
            exit(2)
        }
    }

    static func table(services: Int, destinations: Int) -> IPVSTable {
        IPVSTable(services: (0..<services).map { s in
            var service = VirtualService(key: .address(.tcp, IPAddress(ipv4: 0x0a00_0000 | UInt32(s)), port: 80))
            service.destinations = (0..<destinations).map { d in
                Destination(address: IPAddress(ipv4: 0xac10_0000 | UInt32(d + 1)), port: 80, weight: 32)
            }
            return service
        })
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
