import Crypto
import XCTest

@testable import Heartbeat

final class HeartbeatMessageTests: XCTestCase {
    let key = HeartbeatAuthentication.hmacSHA256(key: Array("0123456789abcdef0123".utf8))

    func message(sequence: UInt64 = 1, boot: UInt64 = 42, link: UInt8 = 0, echo: UInt64 = 9) -> HeartbeatMessage {
        HeartbeatMessage(
            state: .active, configuredRole: .primary, fit: true, link: link, senderID: 7, sequence: sequence,
            bootID: boot, echo: echo)
    }

    func testRoundTripOfEveryField() throws {
        for state in [HeartbeatState.active, .backup, .stopping] {
            for role in [ConfiguredRole.primary, .backup] {
                for fit in [true, false] {
                    let m = HeartbeatMessage(
                        state: state, configuredRole: role, fit: fit, link: 3, senderID: 0x0102_0304_0506_0708,
                        sequence: .max - 1, bootID: 0xDEAD_BEEF_0000_0001, echo: 0x0F0E_0D0C_0B0A_0908)
                    let wire = key.seal(m)
                    XCTAssertEqual(wire.count, HeartbeatMessage.length)
                    XCTAssertEqual(try HeartbeatMessage(decoding: wire), m)
                }
            }
        }
    }

    func testLayoutIsBigEndianAtDocumentedOffsets() {
        let wire = key.seal(message(sequence: 0x0A0B, boot: 0x0C0D, link: 2, echo: 0x0E0F))
        XCTAssertEqual(wire.count, 72)
        XCTAssertEqual(Array(wire[0..<4]), Array("H2EB".utf8))
        XCTAssertEqual(wire[4], 2)
        XCTAssertEqual(wire[5], HeartbeatState.active.rawValue)
        XCTAssertEqual(wire[6], 1)  // primary, fit
        XCTAssertEqual(wire[7], 2)
        XCTAssertEqual(Array(wire[8..<16]), [0, 0, 0, 0, 0, 0, 0, 7])
        XCTAssertEqual(Array(wire[16..<24]), [0, 0, 0, 0, 0, 0, 0x0A, 0x0B])
        XCTAssertEqual(Array(wire[24..<32]), [0, 0, 0, 0, 0, 0, 0x0C, 0x0D])
        XCTAssertEqual(Array(wire[32..<40]), [0, 0, 0, 0, 0, 0, 0x0E, 0x0F])
    }

    func testAcceptsValidAndCountsIt() {
        var v = HeartbeatVerifier(authentication: key)
        XCTAssertEqual(try v.verify(key.seal(message())).get(), message())
        XCTAssertEqual(v.accepted, 1)
        XCTAssertEqual(v.rejections, [:])
    }

    func testRejectsEachKindAndCountsIt() {
        var v = HeartbeatVerifier(authentication: key, ownSenderID: 99)
        let good = key.seal(message(sequence: 5))
        XCTAssertNoThrow(try v.verify(good).get())

        var cases: [(String, [UInt8], HeartbeatRejection)] = []
        cases.append(("short", Array(good.dropLast()), .wrongLength))
        cases.append(("long", good + [0], .wrongLength))
        cases.append(("tiny", [1, 2], .wrongLength))
        var magic = good
        magic[0] ^= 1
        cases.append(("magic", magic, .badMagic))
        var version = good
        version[4] = 1
        cases.append(("version 1", version, .wrongVersion))
        cases.append(("version 1, longer", version + [0, 0], .wrongVersion))
        var state = good
        state[5] = 9
        cases.append(("state", state, .malformed))
        var flags = good
        flags[6] |= 0x80
        cases.append(("flags", flags, .malformed))
        var forged = key.seal(message(sequence: 6))
        forged[15] ^= 1  // sender id changed after sealing
        cases.append(("forged body", forged, .badMAC))
        var badTag = key.seal(message(sequence: 6))
        badTag[HeartbeatMessage.length - 1] ^= 1
        cases.append(("forged tag", badTag, .badMAC))
        let otherKey = HeartbeatAuthentication.hmacSHA256(key: Array("another key of 16+ bytes".utf8))
        cases.append(("other key", otherKey.seal(message(sequence: 6)), .badMAC))
        cases.append(("unauthenticated", HeartbeatAuthentication.none.seal(message(sequence: 6)), .badMAC))
        cases.append(("replay", good, .replay))
        cases.append(("older", key.seal(message(sequence: 4)), .replay))
        cases.append(("older, another boot", key.seal(message(sequence: 4, boot: 1)), .replay))
        cases.append(("other link", key.seal(message(sequence: 6, link: 1)), .wrongLink))
        var own = message(sequence: 6)
        own.senderID = 99
        cases.append(("own id", key.seal(own), .ownSenderID))

        var expected: [HeartbeatRejection: Int] = [:]
        for (name, datagram, rejection) in cases {
            XCTAssertEqual(v.verify(datagram), .failure(rejection), name)
            expected[rejection, default: 0] += 1
        }
        XCTAssertEqual(v.rejections, expected)
        XCTAssertEqual(v.accepted, 1)
        // Nothing above advanced the replay state: the next sequence number is still accepted.
        XCTAssertNoThrow(try v.verify(key.seal(message(sequence: 6))).get())
    }

    /// The sequence floor is checked before the HMAC (a replay costs no MAC computation) and only an authentic
    /// message raises it: a forger cannot lock the peer out by sending a huge sequence number.
    func testForgedHighSequenceDoesNotRaiseTheFloor() {
        var v = HeartbeatVerifier(authentication: key)
        XCTAssertNoThrow(try v.verify(key.seal(message(sequence: 10))).get())
        let forger = HeartbeatAuthentication.hmacSHA256(key: Array("the attacker's guess at the key".utf8))
        XCTAssertEqual(v.verify(forger.seal(message(sequence: .max))), .failure(.badMAC))
        XCTAssertEqual(v.verify(forger.seal(message(sequence: 3))), .failure(.replay))
        XCTAssertNoThrow(try v.verify(key.seal(message(sequence: 11))).get())
    }

    /// Sequences grow across the sender's restarts (they start at its wall clock), so the floor is per sender, not
    /// per boot: a message of an earlier run stays a replay whatever its boot nonce.
    func testFloorIsPerSenderAcrossBootsAndPerLink() {
        var v0 = HeartbeatVerifier(authentication: key, link: 0)
        var v1 = HeartbeatVerifier(authentication: key, link: 1)
        XCTAssertNoThrow(try v0.verify(key.seal(message(sequence: 1_000, boot: 1))).get())
        XCTAssertNoThrow(try v0.verify(key.seal(message(sequence: 2_000, boot: 2))).get())
        XCTAssertEqual(v0.verify(key.seal(message(sequence: 1_001, boot: 1))), .failure(.replay))
        // Each link is its own stream (its own verifier).
        XCTAssertNoThrow(try v1.verify(key.seal(message(sequence: 1_001, boot: 2, link: 1))).get())
        XCTAssertEqual(v1.verify(key.seal(message(sequence: 1_001, boot: 2, link: 1))), .failure(.replay))
    }

    func testUnauthenticatedModeSkipsOnlyTheMAC() {
        var v = HeartbeatVerifier(authentication: .none)
        let plain = HeartbeatAuthentication.none.seal(message())
        XCTAssertEqual(Array(plain[40...]), [UInt8](repeating: 0, count: 32))
        XCTAssertNoThrow(try v.verify(plain).get())
        XCTAssertEqual(v.verify(plain), .failure(.replay))
    }

    func testVersionMismatchSaysToUpgradeBoth() {
        XCTAssertTrue(HeartbeatRejection.wrongVersion.description.contains("upgrade both directors"))
        XCTAssertTrue(HeartbeatRejection.wrongVersion.description.contains("version 2"))
    }
}
