/// Service names for ports, so lvs.cf can say `port = http` as Piranha's `getservbyname` allowed, without
/// reading /etc/services. The common names of Debian's /etc/services (TCP).
enum ServiceNames {
    static let ports: [String: UInt16] = [
        "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "gopher": 70, "finger": 79,
        "http": 80, "www": 80, "pop3": 110, "sunrpc": 111, "nntp": 119, "ntp": 123, "imap2": 143, "imap": 143,
        "snmp": 161, "ldap": 389, "https": 443, "submissions": 465, "smtps": 465, "syslog": 514, "submission": 587,
        "ldaps": 636, "rsync": 873, "imaps": 993, "pop3s": 995, "ms-sql-s": 1433, "openvpn": 1194, "nfs": 2049,
        "mysql": 3306, "postgresql": 5432, "http-alt": 8080, "webcache": 8080, "memcache": 11211, "redis": 6379,
        "mongodb": 27017, "squid": 3128, "sieve": 4190, "xmpp-client": 5222, "xmpp-server": 5269, "sip": 5060,
        "amqp": 5672, "domain-s": 853, "kerberos": 88, "irc": 194, "ircs-u": 6697, "git": 9418,
    ]

    static func port(named name: String) -> UInt16? { ports[name] }
}
