// h2e-heartbeat-tool: the attacker's side of the heartbeat tests (Tests/KernelTests/FailoverKernelTests.swift,
// scripts/attack-heartbeat). Not installed; it builds its datagrams with the Heartbeat module, so the wire format is
// defined in one place (HeartbeatMessage).
//
//   flood   --from IP --to IP [--port 539] [--rate 110000] [--seconds 5] [--kind badmac|unsigned|v1|garbage] [--link 0]
//           forged "primary stopping" heartbeats (sender id of --from), sent from --from at --rate per second
//           (paced in batches); prints "sent N datagrams in S s: R/s (E send errors)".
//   capture --source IP [--interface eth0] [--port 539] [--seconds 3] --out FILE
//           records the heartbeats from --source seen on --interface (AF_PACKET, needs
//           CAP_NET_RAW), one hex datagram per line; prints "captured N".
//   replay  --from IP --to IP [--port 539] --file FILE [--seconds 6] [--interval 0.2]
//           sends the recorded datagrams again from --from every --interval; prints "replayed N datagrams R times".
import CPacket
import Heartbeat

#if canImport(Glibc)
import Glibc
#endif

struct ToolError: Error, CustomStringConvertible {
    var description: String
}

func fail(_ message: String) -> Never {
    let line = Array("h2e-heartbeat-tool: \(message)\n".utf8)
    _ = write(2, line, line.count)
    exit(2)
}

/// `--name value` pairs.
struct Options: Sendable {
    var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>) {
        var rest = arguments
        while let key = rest.popFirst() {
            guard key.hasPrefix("--"), let value = rest.popFirst() else { fail("expected --option value, got \(key)") }
            values[String(key.dropFirst(2))] = value
        }
    }

    func callAsFunction(_ name: String, _ fallback: String? = nil) -> String {
        guard let value = values[name] ?? fallback else { fail("--\(name) is required") }
        return value
    }

    func number(_ name: String, _ fallback: Double) -> Double {
        guard let value = Double(self(name, "\(fallback)")) else { fail("--\(name) must be a number") }
        return value
    }
}

func ipv4(_ text: String) -> in_addr {
    var address = in_addr()
    guard inet_pton(AF_INET, text, &address) == 1 else { fail("\(text) is not an IPv4 address") }
    return address
}

func socketAddress(_ ip: String, _ port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr = ipv4(ip)
    return address
}

/// A UDP socket bound to `ip` (an ephemeral port: the director's own socket may hold the heartbeat port).
func sender(from ip: String) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { fail("socket: \(String(cString: strerror(errno)))") }
    var local = socketAddress(ip, 0)
    let rc = withUnsafePointer(to: &local) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard rc == 0 else { fail("bind \(ip): \(String(cString: strerror(errno)))") }
    var size: Int32 = 4 << 20
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    return fd
}

func monotonic() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9
}

/// Sends `count` datagrams (cycling through `datagrams`) to `target`; returns how many went out.
func sendBatch(_ fd: Int32, _ datagrams: [[UInt8]], target: sockaddr_in, count: Int) -> Int {
    var target = target
    return withUnsafePointer(to: &target) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
            var sent = 0
            for i in 0..<count {
                let datagram = datagrams[i % datagrams.count]
                if sendto(fd, datagram, datagram.count, 0, address, socklen_t(MemoryLayout<sockaddr_in>.size)) > 0 { sent += 1 }
            }
            return sent
        }
    }
}

func flood(_ option: Options) {
    let from = option("from"), to = option("to")
    let port = Int(option.number("port", 539)), rate = option.number("rate", 110_000), seconds = option.number("seconds", 5)
    let link = UInt8(option.number("link", 0))
    guard let senderID = PeerConfiguration.senderID(forAddress: from) else { fail("\(from) is not an IP address") }
    let kind = option("kind", "badmac")
    // Worst case for the receiver: a valid header, a sequence above any floor, so only the HMAC can reject it.
    let datagrams: [[UInt8]] = (0..<64).map { i in
        let message = HeartbeatMessage(
            state: .stopping, configuredRole: .primary, link: link, senderID: senderID,
            sequence: UInt64.max - UInt64(i), bootID: .random(in: 1...UInt64.max), echo: .random(in: 1...UInt64.max))
        switch kind {
        case "badmac": return message.body + (0..<HeartbeatMessage.macLength).map { _ in UInt8.random(in: 0...255) }
        case "unsigned": return HeartbeatAuthentication.none.seal(message)
        case "v1":
            var body = message.body
            body[4] = 1
            return body + [UInt8](repeating: 0, count: HeartbeatMessage.macLength)
        case "garbage": return (0..<HeartbeatMessage.length).map { _ in UInt8.random(in: 0...255) }
        default: fail("--kind must be badmac, unsigned, v1 or garbage")
        }
    }
    let fd = sender(from: from)
    let target = socketAddress(to, port)
    let start = monotonic()
    var sent = 0, errors = 0
    while true {
        let elapsed = monotonic() - start
        if elapsed >= seconds { break }
        let due = Int(elapsed * rate) - sent
        if due <= 0 {
            usleep(200)
            continue
        }
        let n = sendBatch(fd, datagrams, target: target, count: min(due, 64))
        if n > 0 { sent += n } else { errors += 1; usleep(100) }
    }
    let elapsed = monotonic() - start
    print("sent \(sent) datagrams in \(Double(Int(elapsed * 100)) / 100) s: \(Int(Double(sent) / elapsed))/s (\(errors) send errors)")
}

func capture(_ option: Options) {
    let source = ipv4(option("source")).s_addr
    let port = UInt16(option.number("port", 539)), seconds = option.number("seconds", 3), out = option("out")
    let interface = option("interface", "eth0")
    let fd = h2e_packet_open(Int32(if_nametoindex(interface)), 0x0800)
    guard fd >= 0 else { fail("AF_PACKET socket on \(interface) (needs CAP_NET_RAW): \(String(cString: strerror(-fd)))") }
    var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var seen: [String] = []
    var frame = [UInt8](repeating: 0, count: 2048)
    let end = monotonic() + seconds
    while monotonic() < end {
        let n = recv(fd, &frame, frame.count, 0)
        // Ethernet header (14), IPv4 header (IHL words), UDP header (8).
        guard n > 34, frame[23] == 17 else { continue }
        let sourceAddress = UInt32(frame[26]) | UInt32(frame[27]) << 8 | UInt32(frame[28]) << 16 | UInt32(frame[29]) << 24
        guard sourceAddress == source else { continue }
        let udp = 14 + Int(frame[14] & 15) * 4
        guard n > udp + 8, UInt16(frame[udp + 2]) << 8 | UInt16(frame[udp + 3]) == port else { continue }
        let payload = Array(frame[(udp + 8)..<n])
        guard (try? HeartbeatMessage(decoding: payload)) != nil else { continue }
        seen.append(payload.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
    }
    guard let file = fopen(out, "w") else { fail("cannot write \(out): \(String(cString: strerror(errno)))") }
    fputs(seen.joined(separator: "\n") + "\n", file)
    fclose(file)
    print("captured \(seen.count)")
}

func replay(_ option: Options) {
    let from = option("from"), to = option("to"), path = option("file")
    let port = Int(option.number("port", 539)), seconds = option.number("seconds", 6), interval = option.number("interval", 0.2)
    guard let file = fopen(path, "r") else { fail("cannot read \(path): \(String(cString: strerror(errno)))") }
    var datagrams: [[UInt8]] = []
    var line = [CChar](repeating: 0, count: 1024)
    while fgets(&line, Int32(line.count), file) != nil {
        let hex = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).filter(\.isHexDigit)
        guard hex.count >= 2 else { continue }
        var bytes: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex, let next = hex.index(i, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[i..<next], radix: 16)!)
            i = next
        }
        datagrams.append(bytes)
    }
    fclose(file)
    guard !datagrams.isEmpty else { fail("\(path) holds no datagrams") }
    let fd = sender(from: from)
    let target = socketAddress(to, port)
    let end = monotonic() + seconds
    var rounds = 0
    while monotonic() < end {
        _ = sendBatch(fd, datagrams, target: target, count: datagrams.count)
        rounds += 1
        usleep(useconds_t(interval * 1_000_000))
    }
    print("replayed \(datagrams.count) datagrams \(rounds) times")
}

let arguments = CommandLine.arguments.dropFirst()
let options = Options(arguments.dropFirst())
switch arguments.first {
case "flood": flood(options)
case "capture": capture(options)
case "replay": replay(options)
default: fail("usage: h2e-heartbeat-tool flood|capture|replay --option value ... (see the comment in main.swift)")
}
