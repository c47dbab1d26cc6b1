import Foundation
import XCTest

// VM mode on an engine's network (TapMirror): the container's interfaces,
// made by the test or by podman, carried into the guest. Every network here
// lives in a private network and mount namespace the test makes (`unshare
// -m -n`, with a tmpfs on /run for /run/netns and the engines' state), so
// no bridge, address, tap, qdisc or firewall rule touches the host's.
// What the guest got is read from inside it (ip, /sys) and proved by
// traffic (busybox nc), not taken from vessel's word.
final class VMNetworkTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws {
        harness = try Harness()
        guard FileManager.default.fileExists(atPath: VMTests.kernel) else {
            throw XCTSkip("no guest kernel at \(VMTests.kernel): run scripts/fetch-vm-kernel.sh")
        }
        for tool in ["/usr/bin/qemu-system-x86_64", "/usr/sbin/ip", "/usr/sbin/tc", "/usr/bin/unshare", "/bin/busybox"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw XCTSkip("\(tool) is missing: run scripts/install-deps.sh")
        }
        guard FileManager.default.fileExists(atPath: "/dev/net/tun") else { throw XCTSkip("no /dev/net/tun on this host") }
    }

    override func tearDown() { harness?.cleanUp() }

    /// `script` in a new network and mount namespace with a tmpfs on /run
    /// (and /run/netns), loopback up; $VESSEL, $ROOT and $S (a scratch
    /// directory) are set. Its lines `KEY=value` are returned by key.
    func inPrivateNetwork(_ script: String, timeout: Double = 300) throws -> (outcome: Outcome, values: [String: String]) {
        let preamble = """
            set -u
            mount -t tmpfs tmpfs /run && mkdir /run/netns || exit 90
            ip link set lo up
            VESSEL=\(Harness.vesselBinary); ROOT=\(harness.stateRoot); S=\(harness.scratch)

            """
        let run = try Harness.start("/usr/bin/unshare", ["-m", "-n", "--propagation", "private", "sh", "-c", preamble + script])
        if !run.wait(timeoutSeconds: timeout) {
            kill(run.pid, SIGKILL)
        }
        let outcome = run.outcome()
        var values: [String: String] = [:]
        for line in outcome.stdout.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "="), line.first?.isUppercase == true else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return (outcome, values)
    }

    /// A namespace `ctr` holding eth0 (10.77.0.2/24, MTU 1400, default route
    /// via 10.77.0.1), the peer of vhost0 (10.77.0.1) outside it: what an
    /// engine makes for a container.
    static let vethNamespace = """
        ip netns add ctr
        ip link add vhost0 type veth peer name eth0 netns ctr
        ip addr add 10.77.0.1/24 dev vhost0 && ip link set vhost0 up
        ip -n ctr link set lo up && ip -n ctr addr add 10.77.0.2/24 dev eth0
        ip -n ctr link set eth0 mtu 1400 up && ip -n ctr route add default via 10.77.0.1

        """

    /// What vessel added to the namespace: taps and ingress qdiscs.
    static let leftovers = """
        echo "$(ip -n ctr -o link show type tun | wc -l) taps, $(tc -n ctr qdisc show | grep -c ingress) ingress qdiscs"
        """

    func vmBundle(_ script: String) throws -> String {
        try harness.shellBundle(script) { config in
            var linux = config["linux"] as? [String: Any] ?? [:]
            linux["namespaces"] = (linux["namespaces"] as? [[String: Any]] ?? []).map {
                $0["type"] as? String == "network" ? ["type": "network", "path": "/run/netns/ctr"] : $0
            }
            config["linux"] = linux
        }
    }

    /// The container has the engine's address, MAC, MTU and route, talks
    /// TCP both ways across the veth, and once it has exited (the
    /// supervisor undoes its redirects) nothing of vessel's is left.
    func testTheEngineVethIsCarriedIntoTheGuest() throws {
        let bundle = try vmBundle(
            """
            ip -o -4 addr show eth0 | awk '{print "ADDRESS=" $4}'; echo "MAC=$(cat /sys/class/net/eth0/address)"
            echo "MTU=$(cat /sys/class/net/eth0/mtu)"; echo "ROUTE=$(ip route show default)"
            echo "LINKS=$(ls /sys/class/net | tr '\\n' ' ')"
            echo ping-from-vm | nc 10.77.0.1 7000; nc -l -p 7001 -e echo pong-from-vm
            """)
        let (outcome, values) = try inPrivateNetwork(
            Self.vethNamespace + """
                echo "ENGINE_MAC=$(ip netns exec ctr cat /sys/class/net/eth0/address)"
                busybox nc -l -p 7000 > $S/received &
                $VESSEL --root $ROOT --vm run -d --bundle \(bundle) vmnet > $S/container.out 2> $S/container.err
                echo "CREATE=$?"
                echo "BOOT=$($VESSEL --root $ROOT state vmnet | grep -o '"org.vessel.vm.boot": "[a-z]*')"
                echo "DURING=$(\(Self.leftovers))"
                for i in $(seq 60); do echo x | busybox nc -w 2 10.77.0.2 7001 > $S/reply 2>/dev/null; [ -s $S/reply ] && break; sleep 1; done
                echo "REPLY=$(cat $S/reply)"; echo "RECEIVED=$(cat $S/received)"
                for i in $(seq 30); do $VESSEL --root $ROOT state vmnet | grep -q '"stopped"' && break; sleep 1; done
                # The supervisor undoes its redirects once QEMU is gone, shortly after.
                for i in $(seq 100); do [ "$(\(Self.leftovers))" = "0 taps, 0 ingress qdiscs" ] && break; sleep 0.1; done
                echo "STOPPED=$(\(Self.leftovers))"
                $VESSEL --root $ROOT delete vmnet; echo "DELETE=$?"
                cat $S/container.out
                """)
        XCTAssertEqual(values["CREATE"], "0", outcome.stdout + outcome.stderr)
        XCTAssertEqual(values["ADDRESS"], "10.77.0.2/24", outcome.stdout)
        XCTAssertEqual(values["MAC"], values["ENGINE_MAC"], outcome.stdout)
        XCTAssertEqual(values["MTU"], "1400")
        XCTAssertEqual(values["ROUTE"]?.hasPrefix("default via 10.77.0.1 dev eth0"), true, outcome.stdout)
        XCTAssertEqual(values["LINKS"], "eth0 lo ")
        XCTAssertEqual(values["RECEIVED"], "ping-from-vm")
        XCTAssertEqual(values["REPLY"], "pong-from-vm")
        XCTAssertEqual(values["DURING"], "1 taps, 2 ingress qdiscs")
        XCTAssertEqual(values["STOPPED"], "0 taps, 0 ingress qdiscs")
        XCTAssertEqual(values["DELETE"], "0")
        // A template holds the device (with a placeholder MAC, which the
        // agent replaced with the engine's: MAC above).
        let templatesOff = ProcessInfo.processInfo.environment["VESSEL_VM_TEMPLATES"] == "off"
        XCTAssertEqual(values["BOOT"], "\"org.vessel.vm.boot\": \"" + (templatesOff ? "cold" : "template"), outcome.stdout)
        harness.assertNoTrace("vmnet")
    }

    /// Every interface of the namespace is carried, each onto a device of
    /// its own with its MAC: a second veth with an IPv4 and an IPv6 address
    /// and a route through it, reached over TCP on IPv6.
    func testEveryInterfaceIsCarried() throws {
        let bundle = try vmBundle(
            """
            echo "LINKS=$(ls /sys/class/net | tr '\\n' ' ')"; echo "MAC1=$(cat /sys/class/net/net1/address)"
            echo "NET1=$(ip -o addr show net1 scope global | awk '{print $4}' | tr '\\n' ' ')"
            echo "ROUTE1=$(ip route show 10.90.0.0/16)"
            nc -l -p 7002 -e echo over-ipv6
            """)
        let (outcome, values) = try inPrivateNetwork(
            Self.vethNamespace + """
                ip link add vhost1 type veth peer name net1 netns ctr
                ip addr add 10.80.0.1/24 dev vhost1 && ip -6 addr add fd80::1/64 dev vhost1 nodad && ip link set vhost1 up
                ip -n ctr addr add 10.80.0.2/24 dev net1 && ip -n ctr -6 addr add fd80::2/64 dev net1 nodad
                ip -n ctr link set net1 up && ip -n ctr route add 10.90.0.0/16 via 10.80.0.1
                echo "ENGINE_MAC1=$(ip netns exec ctr cat /sys/class/net/net1/address)"
                $VESSEL --root $ROOT --vm run -d --bundle \(bundle) vmtwo > $S/container.out 2> $S/container.err; echo "CREATE=$?"
                echo "DURING=$(\(Self.leftovers))"
                for i in $(seq 60); do busybox nc -w 2 fd80::2 7002 < /dev/null > $S/reply 2>/dev/null; [ -s $S/reply ] && break; sleep 1; done
                echo "REPLY=$(cat $S/reply)"
                for i in $(seq 30); do $VESSEL --root $ROOT state vmtwo | grep -q '"stopped"' && break; sleep 1; done
                $VESSEL --root $ROOT delete --force vmtwo; echo "DELETE=$?"
                cat $S/container.out $S/container.err
                """)
        XCTAssertEqual(values["CREATE"], "0", outcome.stdout + outcome.stderr)
        XCTAssertEqual(values["LINKS"], "eth0 lo net1 ")
        XCTAssertEqual(values["MAC1"], values["ENGINE_MAC1"])
        XCTAssertEqual(values["NET1"], "10.80.0.2/24 fd80::2/64 ", outcome.stdout)
        XCTAssertEqual(values["ROUTE1"]?.hasPrefix("10.90.0.0/16 via 10.80.0.1 dev net1"), true, outcome.stdout)
        XCTAssertEqual(values["DURING"], "2 taps, 4 ingress qdiscs")
        XCTAssertEqual(values["REPLY"], "over-ipv6", outcome.stdout + outcome.stderr)
        XCTAssertEqual(values["DELETE"], "0")
    }

    /// delete --force SIGKILLs the supervisor, which then undoes nothing:
    /// delete does, from network.json. An ingress qdisc the engine had
    /// stays (with its own filter); ours go.
    func testDeleteForceUndoesTheRedirects() throws {
        let bundle = try vmBundle("sleep 1000")
        let (outcome, values) = try inPrivateNetwork(
            Self.vethNamespace + """
                tc -n ctr qdisc add dev eth0 ingress
                tc -n ctr filter add dev eth0 parent ffff: protocol ip prio 3 u32 match ip dst 10.99.0.0/16 classid ffff:1
                $VESSEL --root $ROOT --vm run -d --bundle \(bundle) vmkill > /dev/null 2> $S/container.err; echo "CREATE=$?"
                echo "DURING=$(\(Self.leftovers))"
                $VESSEL --root $ROOT delete --force vmkill; echo "DELETE=$?"
                echo "AFTER=$(\(Self.leftovers))"
                echo "FILTERS=$(tc -n ctr filter show dev eth0 ingress | grep -c 'pref 3 ')/$(tc -n ctr filter show dev eth0 ingress | grep -c mirred)"
                cat $S/container.err
                """)
        XCTAssertEqual(values["CREATE"], "0", outcome.stdout + outcome.stderr)
        XCTAssertEqual(values["DURING"], "1 taps, 2 ingress qdiscs")
        XCTAssertEqual(values["DELETE"], "0")
        XCTAssertEqual(values["AFTER"], "0 taps, 1 ingress qdiscs", "the engine's own qdisc stays, ours go")
        XCTAssertEqual(values["FILTERS"]?.hasSuffix("/0"), true, "no mirred filter left: \(values["FILTERS"] ?? "")")
        XCTAssertNotEqual(values["FILTERS"]?.hasPrefix("0/"), true, "the engine's filter stays")
        harness.assertNoTrace("vmkill")
    }

    /// A namespace with loopback only: the VM boots with no NIC, and the
    /// container's loopback is up as the engine's was.
    func testANamespaceWithoutInterfacesStillBoots() throws {
        let bundle = try vmBundle("echo \"LINKS=$(ls /sys/class/net | tr '\\n' ' ')\"; echo \"LO=$(ip -o -4 addr show lo | awk '{print $4}')\"")
        let (outcome, values) = try inPrivateNetwork(
            """
            ip netns add ctr && ip -n ctr link set lo up
            $VESSEL --root $ROOT --vm run --bundle \(bundle) vmlo; echo "RUN=$?"
            echo "AFTER=$(\(Self.leftovers))"
            """)
        XCTAssertEqual(values["RUN"], "0", outcome.stdout + outcome.stderr)
        XCTAssertEqual(values["LINKS"], "lo ")
        XCTAssertEqual(values["LO"], "127.0.0.1/8")
        XCTAssertEqual(values["AFTER"], "0 taps, 0 ingress qdiscs")
    }

    /// A new network namespace is the supervisor's own, as a linux-mode
    /// init's would be: what an engine puts in /proc/<pid>/ns/net between
    /// create and start (buildah does) reaches the container at start.
    func testAnInterfaceAddedBetweenCreateAndStartIsCarried() throws {
        let bundle = try harness.shellBundle(
            """
            ip -o -4 addr show eth0 | awk '{print "ADDRESS=" $4}'; echo "MAC=$(cat /sys/class/net/eth0/address)"
            echo ping-late | nc 10.78.0.1 7000
            """)
        let (outcome, values) = try inPrivateNetwork(
            """
            busybox nc -l -p 7000 > $S/received &
            $VESSEL --root $ROOT --vm create --bundle \(bundle) vmlate > $S/container.out 2> $S/container.err; echo "CREATE=$?"
            PID=$($VESSEL --root $ROOT state vmlate | sed -n 's/.*"pid": \\([0-9]*\\).*/\\1/p')
            echo "OWN_NAMESPACE=$([ "$(readlink /proc/$PID/ns/net)" != "$(readlink /proc/self/ns/net)" ] && echo yes)"
            ip link add vhost0 type veth peer name eth0 netns /proc/$PID/ns/net
            ip addr add 10.78.0.1/24 dev vhost0 && ip link set vhost0 up
            nsenter --net=/proc/$PID/ns/net sh -c 'ip link set lo up && ip addr add 10.78.0.2/24 dev eth0 && ip link set eth0 up'
            echo "ENGINE_MAC=$(nsenter --net=/proc/$PID/ns/net ip -o link show eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "link/ether") print $(i + 1)}')"
            $VESSEL --root $ROOT start vmlate; echo "START=$?"
            for i in $(seq 60); do $VESSEL --root $ROOT state vmlate | grep -q '"stopped"' && break; sleep 0.5; done
            echo "RECEIVED=$(cat $S/received)"
            $VESSEL --root $ROOT delete vmlate; echo "DELETE=$?"
            cat $S/container.out $S/container.err
            """)
        XCTAssertEqual(values["CREATE"], "0", outcome.stdout + outcome.stderr)
        XCTAssertEqual(values["OWN_NAMESPACE"], "yes", "the supervisor is in a namespace of its own, not the caller's")
        XCTAssertEqual(values["START"], "0", outcome.stdout + outcome.stderr)
        XCTAssertEqual(values["ADDRESS"], "10.78.0.2/24", outcome.stdout)
        XCTAssertEqual(values["MAC"], values["ENGINE_MAC"])
        XCTAssertEqual(values["RECEIVED"], "ping-late")
        XCTAssertEqual(values["DELETE"], "0")
        harness.assertNoTrace("vmlate")
    }

    /// buildah bud with vessel-vm: each RUN step runs in a VM that has the
    /// address netavark gave it and reaches a server on the bridge.
    func testBuildahRunStepsGetTheEngineNetwork() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/buildah") else {
            throw XCTSkip("buildah is not installed (apt-get install buildah)")
        }
        let context = harness.scratch + "/context"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.execute("/bin/cp", ["-a", Harness.rootfs, context + "/rootfs"]).code, 0)
        try """
        FROM scratch
        COPY rootfs /
        RUN echo "ADDRESS=$(ip -o -4 addr show eth0 | awk '{print $4}')"; echo "KERNEL=$(uname -r)"
        RUN echo "REPLY=$(nc 10.88.0.1 7000 </dev/null)"
        """.write(toFile: context + "/Containerfile", atomically: true, encoding: .utf8)
        let vesselVM = harness.scratch + "/vessel-vm"
        try FileManager.default.createSymbolicLink(atPath: vesselVM, withDestinationPath: Harness.vesselBinary)
        let (outcome, values) = try inPrivateNetwork(
            """
            B="buildah --root $S/buildah --runroot /run/buildah --storage-driver vfs"
            # On every address, so on the bridge's once netavark makes it.
            busybox nc -ll -p 7000 -e echo from-the-bridge &
            $B bud --runtime \(vesselVM) --isolation oci --ulimit nofile=1024:20000 -t vmnet-build \(context); echo "BUD=$?"
            $B rmi --all > /dev/null; kill %1 2>/dev/null
            """)
        XCTAssertEqual(values["BUD"], "0", outcome.stdout + outcome.stderr)
        XCTAssertEqual(values["ADDRESS"]?.hasPrefix("10.88."), true, outcome.stdout)
        XCTAssertEqual(
            values["KERNEL"],
            try String(contentsOfFile: "/var/lib/vessel/vm/kernel/release", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines), "the step ran in the VM")
        XCTAssertEqual(values["REPLY"], "from-the-bridge", outcome.stdout + outcome.stderr)
    }

    /// podman on its default bridge network (netavark, in the private
    /// namespace): two VM-mode containers (vessel-vm) and one linux-mode
    /// container each reach the other two with a TCP echo; the VM container
    /// has the address podman assigned and podman's resolv.conf and hosts;
    /// a published port reaches it.
    func testPodmanBridgeNetworkWithVMAndLinuxContainers() throws {
        guard let podman = ["/usr/bin/podman", "/usr/local/bin/podman"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("podman is not installed (apt-get install podman)")
        }
        let base = harness.scratch + "/podman"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        XCTAssertEqual(try Harness.execute("/bin/cp", ["-a", Harness.rootfs, base + "/rootfs"]).code, 0)
        let vesselVM = base + "/vessel-vm"
        try FileManager.default.createSymbolicLink(atPath: vesselVM, withDestinationPath: Harness.vesselBinary)
        // podman refuses a runroot longer than 50 characters; /run is ours here.
        let podmanArgs = "\(podman) --cgroup-manager=cgroupfs --events-backend=file --root \(base)/storage --runroot /run/vp --tmpdir \(base)/tmp"
        let limits = "--pids-limit 0 --ulimit nofile=1024:20000 --ulimit nproc=1024:1024 --rootfs \(base)/rootfs"
        let (outcome, values) = try inPrivateNetwork(
            """
            P="\(podmanArgs)"; VM="$P --runtime \(vesselVM)"; LX="$P --runtime $VESSEL"
            $VM run -d --name vm1 -p 18080:7000 \(limits) sh -c 'nc -ll -p 7000 -e echo from-vm1' > $S/vm1.out 2>&1 &
            $VM run -d --name vm2 \(limits) sh -c 'nc -ll -p 7000 -e echo from-vm2' > $S/vm2.out 2>&1 &
            $LX run -d --name lx1 \(limits) sh -c 'nc -ll -p 7000 -e echo from-lx1' > $S/lx1.out 2>&1 &
            wait
            for c in vm1 vm2 lx1; do eval "IP_$c=$($P inspect --format '{{.NetworkSettings.IPAddress}}' $c)"; done
            echo "PODMAN_IP=$IP_vm1"
            echo "GUEST_IP=$($P exec vm1 sh -c "ip -o -4 addr show eth0" | awk '{print $4}')"
            echo "GUEST_KERNEL=$($P exec vm1 uname -r)"
            echo "HOSTS=$($P exec vm1 grep -c vm1 /etc/hosts)"
            echo "RESOLV=$($P exec vm1 cat /etc/resolv.conf | cmp -s - "$($P inspect --format '{{.ResolvConfPath}}' vm1)" && echo same)"
            echo "FROM_VM1=$($P exec vm1 sh -c "nc $IP_vm2 7000 </dev/null; nc $IP_lx1 7000 </dev/null" | tr '\\n' ' ')"
            echo "FROM_VM2=$($P exec vm2 sh -c "nc $IP_vm1 7000 </dev/null; nc $IP_lx1 7000 </dev/null" | tr '\\n' ' ')"
            echo "FROM_LX1=$($P exec lx1 sh -c "nc $IP_vm1 7000 </dev/null; nc $IP_vm2 7000 </dev/null" | tr '\\n' ' ')"
            echo "PUBLISHED=$(busybox nc -w 5 127.0.0.1 18080 </dev/null)"
            $P rm --force --time 0 vm1 vm2 lx1 > /dev/null; echo "RM=$?"
            echo "LEFT=$(ip -o link | wc -l) links, $($P ps -aq | wc -l) containers"
            cat $S/vm1.out $S/vm2.out $S/lx1.out
            """, timeout: 480)
        let context = outcome.stdout + outcome.stderr
        XCTAssertEqual(values["GUEST_IP"], (values["PODMAN_IP"] ?? "?") + "/16", context)
        XCTAssertEqual(
            values["GUEST_KERNEL"],
            try String(contentsOfFile: "/var/lib/vessel/vm/kernel/release", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines), "vm1 runs in the VM")
        XCTAssertEqual(values["HOSTS"], "1", "podman's /etc/hosts names the container")
        XCTAssertEqual(values["RESOLV"], "same", "podman's resolv.conf")
        XCTAssertEqual(values["FROM_VM1"], "from-vm2 from-lx1 ", context)
        XCTAssertEqual(values["FROM_VM2"], "from-vm1 from-lx1 ", context)
        XCTAssertEqual(values["FROM_LX1"], "from-vm1 from-vm2 ", context)
        XCTAssertEqual(values["PUBLISHED"], "from-vm1", context)
        XCTAssertEqual(values["RM"], "0")
        XCTAssertEqual(values["LEFT"], "1 links, 0 containers", "only lo is left in the namespace")
        let qemus = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int($0) != nil }.filter {
            ((try? String(contentsOfFile: "/proc/\($0)/cmdline", encoding: .utf8)) ?? "").contains(base)
        }
        XCTAssertEqual(qemus, [], "QEMU left running")
    }
}
