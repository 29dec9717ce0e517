/// Text of real /proc files (trimmed), the fixtures of the parser tests.
enum ProcFixtures {
    static let loadavg = "0.84 0.52 0.31 2/412 12345\n"

    // Two CPUs. cpu: user 1000 nice 10 system 300 idle 8000 iowait 200 irq 5 softirq 15 steal 0 guest 50 guest_nice 0
    static let stat = """
        cpu  1000 10 300 8000 200 5 15 0 50 0
        cpu0 500 5 150 4000 100 3 7 0 25 0
        cpu1 500 5 150 4000 100 2 8 0 25 0
        intr 123456 0 0
        ctxt 987654
        btime 1700000000
        processes 4242
        procs_running 2
        procs_blocked 0

        """

    // 400 more busy jiffies and 600 more idle ones than `stat`: utilisation 0.4.
    static let statLater = """
        cpu  1300 10 400 8550 250 5 15 0 50 0
        cpu0 650 5 200 4275 125 3 7 0 25 0
        cpu1 650 5 200 4275 125 2 8 0 25 0
        intr 123999 0 0

        """

    static let meminfo = """
        MemTotal:        8021268 kB
        MemFree:         1000000 kB
        MemAvailable:    6021268 kB
        Buffers:          200000 kB
        Cached:          3000000 kB
        SwapCached:            0 kB

        """

    static let meminfoOld = """
        MemTotal:        4000000 kB
        MemFree:         1000000 kB
        Buffers:          100000 kB
        Cached:           900000 kB

        """

    // Port 80 = 0050, 443 = 01BB, 22 = 0016. States: 01 ESTABLISHED, 0A LISTEN, 06 TIME_WAIT.
    static let tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
           1: 0100007F:0050 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000    33        0 2222 1 0000000000000000 20 4 30 10 -1
           2: 0A00000A:0050 0B00000A:C350 01 00000000:00000000 00:00000000 00000000    33        0 3333 1 0000000000000000 20 4 30 10 -1
           3: 0A00000A:01BB 0B00000A:C351 01 00000000:00000000 00:00000000 00000000    33        0 4444 1 0000000000000000 20 4 30 10 -1
           4: 0A00000A:0016 0B00000A:C352 01 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 20 4 30 10 -1
           5: 0A00000A:0050 0B00000A:C353 06 00000000:00000000 03:00000010 00000000     0        0 0 3 0000000000000000
           6: 0100007F:D2F0 0100007F:0050 01 00000000:00000000 00:00000000 00000000  1000        0 6666 1 0000000000000000 20 4 30 10 -1

        """

    static let tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7777 1 0000000000000000 100 0 0 10 0
           1: 0000000000000000FFFF00000A00000A:0050 0000000000000000FFFF00000B00000A:C360 01 00000000:00000000 00:00000000 00000000    33        0 8888 1 0000000000000000 20 4 30 10 -1
           2: 20010DB8000000000000000000000001:01BB 20010DB8000000000000000000000002:C361 01 00000000:00000000 00:00000000 00000000    33        0 9999 1 0000000000000000 20 4 30 10 -1

        """

    static let apacheStatus = """
        localhost
        ServerVersion: Apache/2.4.57 (Debian)
        Total Accesses: 1234
        BusyWorkers: 7
        IdleWorkers: 43
        Scoreboard: _____W___K_____

        """

    static let nginxStatus = """
        Active connections: 12
        server accepts handled requests
         1000 1000 5000
        Reading: 1 Writing: 4 Waiting: 7

        """
}
