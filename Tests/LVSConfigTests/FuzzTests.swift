import HostSystem
import XCTest

@testable import LVSConfig

/// Mutation fuzzing, bounded for CI: valid files with bytes flipped, deleted, inserted, duplicated or cut off.
/// The parser must not crash or hang, every diagnostic must point into the file, and whatever it accepts must
/// survive a write/parse round trip.
final class FuzzTests: XCTestCase {
    /// Runs 3 s (or `LVSCONFIG_FUZZ_SECONDS`) from seed 0x1F2E3D4C (or `LVSCONFIG_FUZZ_SEED`) for longer local runs.
    func testMutatedConfigurationsNeverCrashAndPointIntoTheFile() {
        let environment = ProcessInfo.processInfo.environment
        let seconds = environment["LVSCONFIG_FUZZ_SECONDS"].flatMap(Int.init) ?? 3
        var rng = SplitMix64(seed: environment["LVSCONFIG_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x1F2E_3D4C)
        var seeds = [Fixtures.kb114327, Fixtures.piranhaSample].map { Array($0.utf8) }
        for seed in UInt64(1)...20 {
            var generator = ConfigGenerator(seed: seed)
            seeds.append(Array(LVSConfigWriter.write(generator.configuration()).utf8))
        }
        let interesting: [UInt8] = Array("{}=\"'#\\\n\r\t :[]0.x".utf8) + [0x00, 0x7F, 0xC3, 0xFF]
        let deadline = ContinuousClock.now + .seconds(seconds)
        var iterations = 0
        var accepted = 0
        while iterations < 2_000 * seconds + 10_000, ContinuousClock.now < deadline {
            iterations += 1
            var bytes = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                mutate(&bytes, interesting: interesting, rng: &rng)
            }
            let result = LVSConfigParser.parse(bytes: bytes, file: "fuzz.cf")
            let lines = lineLengths(bytes)
            for diagnostic in result.diagnostics {
                guard let line = diagnostic.line, let column = diagnostic.column, line >= 1, line <= lines.count,
                    column >= 1, column <= lines[line - 1] + 1
                else {
                    XCTFail(
                        "iteration \(iterations): \(diagnostic) is outside the file (\(lines.count) lines):\n"
                            + String(decoding: bytes, as: UTF8.self))
                    return
                }
            }
            if let configuration = result.configuration {
                accepted += 1
                XCTAssertTrue(result.errors.isEmpty)
                let again = LVSConfigParser.parse(LVSConfigWriter.write(configuration)).configuration
                XCTAssertEqual(again, configuration, "iteration \(iterations): accepted input does not round-trip")
            } else {
                XCTAssertFalse(result.errors.isEmpty, "iteration \(iterations): rejected without an error")
            }
        }
        XCTAssertGreaterThan(iterations, 100, "the fuzzer barely ran")
        print("fuzz: \(iterations) mutated inputs, \(accepted) accepted")
    }

    /// Random bytes up to the size limit, and just over it.
    func testLargeGarbageIsBounded() {
        var rng = SplitMix64(seed: 7)
        let size = 1 << 19
        let garbage = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let result = LVSConfigParser.parse(bytes: garbage, file: "garbage.cf")
        XCTAssertNil(result.configuration)
        XCTAssertEqual(result.errors.count, 100, "errors stop at the limit")
        let tooLarge = [UInt8](repeating: UInt8(ascii: "#"), count: LVSConfigParser.maximumFileSize + 1)
        XCTAssertEqual(LVSConfigParser.parse(bytes: tooLarge).errors.count, 1)
        let deep = Array(String(repeating: "virtual v {\n", count: 50_000).utf8)
        XCTAssertNil(LVSConfigParser.parse(bytes: deep).configuration, "nested blocks are skipped, not recursed into")
    }

    private func mutate(_ bytes: inout [UInt8], interesting: [UInt8], rng: inout SplitMix64) {
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
        // Whole-line edits keep more inputs valid, so the accepted-input round trip gets exercised too.
        if Int.random(in: 0..<3, using: &rng) == 0 {
            var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
            let a = Int.random(in: 0..<lines.count, using: &rng)
            let b = Int.random(in: 0..<lines.count, using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: lines.remove(at: a)
            case 1: lines.insert(lines[a], at: b)
            default: lines.swapAt(a, b)
            }
            bytes = Array(lines.joined(separator: [0x0A]))
            return
        }
        switch Int.random(in: 0..<6, using: &rng) {
        case 0 where !bytes.isEmpty:  // flip bits
            bytes[position] ^= UInt8.random(in: 1...255, using: &rng)
        case 1 where !bytes.isEmpty:  // delete a run
            bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...16, using: &rng)))
        case 2:  // insert a syntax byte
            bytes.insert(interesting[Int.random(in: 0..<interesting.count, using: &rng)], at: position)
        case 3:  // insert a random byte
            bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position)
        case 4 where !bytes.isEmpty:  // duplicate a chunk
            let end = min(bytes.count, position + Int.random(in: 1...64, using: &rng))
            bytes.insert(contentsOf: bytes[position..<end], at: Int.random(in: 0...bytes.count, using: &rng))
        default:  // truncate
            bytes.removeSubrange(position..<bytes.count)
        }
    }

    /// Byte length of each line, with the lexer's line ends (\n, \r\n, \r).
    private func lineLengths(_ bytes: [UInt8]) -> [Int] {
        var lengths: [Int] = []
        var current = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x0A || bytes[index] == 0x0D {
                if bytes[index] == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
                lengths.append(current)
                current = 0
            } else {
                current += 1
            }
            index += 1
        }
        lengths.append(current)
        return lengths
    }
}
