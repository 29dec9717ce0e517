import Crypto
import XCTest

@testable import Heartbeat

final class HeartbeatMessageTests: XCTestCase {
    let key = HeartbeatAuthentication.hmacSHA256(key: Array("0123456789abcdef0123".utf8))
    let now: UInt64 = 1_800_000_000_000_000_000

    func message(sequence: UInt64 = 1, boot: UInt64 = 42, link: UInt8 = 0, sentAt: UInt64? = nil) -> HeartbeatMessage {
        HeartbeatMessage(
            state: .active, configuredRole: .primary, fit: true, link: link, senderID: 7, sequence: sequence,
            bootID: boot, sentAt: sentAt ?? now)
    }

    func testRoundTripOfEveryField() throws {
        for state in [HeartbeatState.active, .backup, .stopping] {
            for role in [ConfiguredRole.primary, .backup] {
                for fit in [true, false] {
                    let m = HeartbeatMessage(
                        state: state, configuredRole: role, fit: fit, link: 3, senderID: 0x0102_0304_0506_0708,
                        sequence: .max - 1, bootID: 0xDEAD_BEEF_0000_0001, sentAt: now)
                    let wire = key.seal(m)
                    XCTAssertEqual(wire.count, HeartbeatMessage.length)
                    XCTAssertEqual(try HeartbeatMessage(decoding: wire), m)
                }
            }
        }
    }

    func testLayoutIsBigEndianAtDocumentedOffsets() {
        let wire = key.seal(message(sequence: 0x0A0B, link: 2))
        XCTAssertEqual(Array(wire[0..<4]), Array("H2EB".utf8))
        XCTAssertEqual(wire[4], 1)
        XCTAssertEqual(wire[5], HeartbeatState.active.rawValue)
        XCTAssertEqual(wire[6], 1)  // primary, fit
        XCTAssertEqual(wire[7], 2)
        XCTAssertEqual(Array(wire[16..<24]), [0, 0, 0, 0, 0, 0, 0x0A, 0x0B])
    }

    func testAcceptsValidAndCountsIt() {
        var v = HeartbeatVerifier(authentication: key)
        XCTAssertEqual(try v.verify(key.seal(message()), now: now).get(), message())
        XCTAssertEqual(v.accepted, 1)
        XCTAssertEqual(v.rejections, [:])
    }

    func testRejectsEachKindAndCountsIt() {
        var v = HeartbeatVerifier(authentication: key, ownSenderID: 99)
        let good = key.seal(message(sequence: 5))
        XCTAssertNoThrow(try v.verify(good, now: now).get())

        var cases: [(String, [UInt8], UInt8, HeartbeatRejection)] = []
        cases.append(("short", Array(good.dropLast()), 0, .wrongLength))
        cases.append(("long", good + [0], 0, .wrongLength))
        var magic = good
        magic[0] ^= 1
        cases.append(("magic", magic, 0, .badMagic))
        var version = good
        version[4] = 2
        cases.append(("version", version, 0, .badMagic))
        var state = good
        state[5] = 9
        cases.append(("state", state, 0, .malformed))
        var flags = good
        flags[6] |= 0x80
        cases.append(("flags", flags, 0, .malformed))
        var forged = key.seal(message(sequence: 6))
        forged[15] ^= 1  // sender id changed after sealing
        cases.append(("forged body", forged, 0, .badMAC))
        var badTag = key.seal(message(sequence: 6))
        badTag[HeartbeatMessage.length - 1] ^= 1
        cases.append(("forged tag", badTag, 0, .badMAC))
        let otherKey = HeartbeatAuthentication.hmacSHA256(key: Array("another key of 16+ bytes".utf8))
        cases.append(("other key", otherKey.seal(message(sequence: 6)), 0, .badMAC))
        cases.append(("unauthenticated", HeartbeatAuthentication.none.seal(message(sequence: 6)), 0, .badMAC))
        cases.append(("replay", good, 0, .replay))
        cases.append(("older", key.seal(message(sequence: 4)), 0, .replay))
        cases.append(("late", key.seal(message(sequence: 6, sentAt: now - 31_000_000_000)), 0, .outsideTimeWindow))
        cases.append(("early", key.seal(message(sequence: 6, sentAt: now + 31_000_000_000)), 0, .outsideTimeWindow))
        cases.append(("other link", key.seal(message(sequence: 6, link: 1)), 0, .wrongLink))
        var own = message(sequence: 6)
        own.senderID = 99
        cases.append(("own id", key.seal(own), 0, .ownSenderID))

        var expected: [HeartbeatRejection: Int] = [:]
        for (name, datagram, link, rejection) in cases {
            XCTAssertEqual(v.verify(datagram, link: link, now: now), .failure(rejection), name)
            expected[rejection, default: 0] += 1
        }
        XCTAssertEqual(v.rejections, expected)
        XCTAssertEqual(v.accepted, 1)
        // Nothing above advanced the replay state: the next sequence number is still accepted.
        XCTAssertNoThrow(try v.verify(key.seal(message(sequence: 6)), now: now).get())
    }

    func testSequencesAreTrackedPerBootAndLink() {
        var v = HeartbeatVerifier(authentication: key)
        XCTAssertNoThrow(try v.verify(key.seal(message(sequence: 10, boot: 1)), now: now).get())
        // A restarted sender (new boot id) starts again at 1.
        XCTAssertNoThrow(try v.verify(key.seal(message(sequence: 1, boot: 2)), now: now).get())
        // The old boot's messages are still replay-protected while inside the window.
        XCTAssertEqual(v.verify(key.seal(message(sequence: 10, boot: 1)), now: now), .failure(.replay))
        XCTAssertNoThrow(try v.verify(key.seal(message(sequence: 11, boot: 1)), now: now).get())
        // Each link is its own stream.
        XCTAssertNoThrow(try v.verify(key.seal(message(sequence: 3, boot: 2, link: 1)), link: 1, now: now).get())
        XCTAssertEqual(v.verify(key.seal(message(sequence: 3, boot: 2, link: 1)), link: 1, now: now), .failure(.replay))
    }

    func testWindowEdgesAreInclusive() {
        var v = HeartbeatVerifier(authentication: key, window: .seconds(30))
        XCTAssertNoThrow(try v.verify(key.seal(message(sequence: 1, sentAt: now - 30_000_000_000)), now: now).get())
        XCTAssertNoThrow(try v.verify(key.seal(message(sequence: 2, sentAt: now + 30_000_000_000)), now: now).get())
        XCTAssertEqual(
            v.verify(key.seal(message(sequence: 3, sentAt: now - 30_000_000_001)), now: now), .failure(.outsideTimeWindow))
    }

    func testUnauthenticatedModeSkipsOnlyTheMAC() {
        var v = HeartbeatVerifier(authentication: .none)
        let plain = HeartbeatAuthentication.none.seal(message())
        XCTAssertEqual(Array(plain[40...]), [UInt8](repeating: 0, count: 32))
        XCTAssertNoThrow(try v.verify(plain, now: now).get())
        XCTAssertEqual(v.verify(plain, now: now), .failure(.replay))
    }
}
