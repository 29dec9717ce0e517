/// Sample lvs.cf files.
enum Fixtures {
    /// The configuration of Parallels KB 114327 ("LVS load balancer"), with the addresses and server names the web
    /// page lost filled in (VIP and primary 10.0.0.10, servers 10.0.0.2 and 10.0.0.3) and the braces it lost
    /// restored; the load_monitor program name was lost too (/usr/sbin/h2e-load stands for it).
    static let kb114327 = """
        network = direct
        primary = 10.0.0.10
        service = lvs

        virtual Web-Cluster-v4 {

            active = 1
            address = 10.0.0.10 eth1:1
            fwmark = 100
            load_monitor = /usr/sbin/h2e-load
            port = 80
            protocol = tcp
            reentry = 10
            timeout = 10
            scheduler = lblc
            send = "GET / HTTP/1.0\\r\\n\\r\\n"
            expect = "HTTP"

            server web1 {
                    active = 1
                    address = 10.0.0.2
                    weight = 32
            }

            server web2 {
                    active = 1
                    address = 10.0.0.3
                    weight = 32
            }
        }

        """

    /// A representative Piranha lvs.cf (as piranha-gui wrote them): every global keyword of lvsconfig.c, two
    /// virtual servers (NAT with persistence, a UDP one) and a failover service.
    static let piranhaSample = """
        serial_no = 42
        primary = 192.168.1.10
        primary_private = 10.1.1.10
        primary_shared = /dev/sda1
        service = lvs
        backup_active = 1
        backup = 192.168.1.11
        backup_private = 10.1.1.11
        backup_shared = /dev/sdb1
        reservation_conflict_action = preempt
        heartbeat = 1
        heartbeat_port = 539
        keepalive = 6
        deadtime = 18
        network = nat
        nat_router = 192.168.2.254 eth1:1
        nat_nmask = 255.255.255.0
        active_cmd = /usr/local/bin/became-active
        inactive_cmd = /usr/local/bin/became-inactive
        monitor_links = 1
        debug_level = NONE
        hard_shutdown = 0
        ipvsadm = /sbin/ipvsadm
        rsh_command = ssh
        syncdaemon = 1
        syncd_iface = eth2
        syncd_id = 7
        tcp_timeout = 900
        tcpfin_timeout = 120
        udp_timeout = 300
        sync = 0
        # Virtual servers
        virtual http {
             active = 1
             address = 192.168.1.100 eth0:1
             vip_nmask = 255.255.255.0
             sorry_server = 192.168.2.99
             port = 80
             persistent = 300
             pmask = 255.255.255.0
             send = "GET / HTTP/1.0\\r\\n\\r\\n"
             expect = "HTTP"
             use_regex = 0
             load_monitor = uptime
             scheduler = wlc
             protocol = tcp
             timeout = 6
             reentry = 15
             quiesce_server = 1
             client_monitor = /usr/sbin/nanny
             server web1 {
                 address = 192.168.2.1
                 active = 1
                 weight = 10
             }
             server web2 {
                 address = 192.168.2.2
                 active = 1
                 port = 8080
                 weight = 20
             }
        }
        virtual dns {
             active = 0
             address = 192.168.1.101 eth0:2
             port = domain
             protocol = udp
             send_program = "/usr/local/bin/check-dns %h"
             expect = "OK"
             scheduler = rr
             server ns1 {
                 address = 192.168.2.5
                 active = 1
             }
        }
        failover ftp {
             active = 1
             address = 192.168.1.102 eth0:3
             port = 21
             send = "\\n"
             expect = "220"
             timeout = 10
             start_cmd = "/etc/init.d/vsftpd start"
             stop_cmd = "/etc/init.d/vsftpd stop"
             master = 192.168.1.10
             dirs = [ /var/ftp /etc/vsftpd ]
        }

        """
}
