import Foundation
import XCTest

// `run` and `exec -t` without --console-socket, driven from a real pty as an
// operator's shell would: vessel allocates the container's pty, relays it in
// raw mode, passes the window size and returns the process's exit status.
final class TerminalTests: XCTestCase {
    var harness: Harness!

    override func setUpWithError() throws {
        harness = try Harness()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
            throw XCTSkip("python3 drives the outer pty in these tests")
        }
    }
    override func tearDown() { harness?.cleanUp() }

    /// Runs vessel with `arguments` on a new pty of 40x100, types `input`,
    /// and returns what the terminal showed and vessel's exit status.
    func onTerminal(_ arguments: [String], input: String) throws -> (output: String, status: Int32) {
        let script = """
            import os, pty, sys, select, termios, struct, fcntl, time
            args = sys.argv[1:-1]
            pid, fd = pty.fork()
            if pid == 0:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
                os.execv(args[0], args)
            time.sleep(0.5)
            os.write(fd, sys.argv[-1].encode())
            out = b""
            deadline = time.time() + 20
            while time.time() < deadline:
                r, _, _ = select.select([fd], [], [], 1)
                if not r:
                    continue
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                out += chunk
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(out.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(status) & 0xff)
            """
        let outcome = try Harness.execute("/usr/bin/python3", ["-c", script, Harness.vesselBinary] + arguments + [input])
        return (outcome.stdout.replacingOccurrences(of: "\r", with: ""), outcome.code)
    }

    func testRunGivesAnInteractiveTerminal() throws {
        let bundle = try harness.bundle { config in
            config.setProcess("terminal", true)
            config.setProcess("args", ["sh"])
            config.setProcess("user", ["uid": 1000, "gid": 1000])
        }
        let (output, status) = try onTerminal(
            ["--root", harness.stateRoot, "run", "--bundle", bundle, "tty1"],
            input: "stty size; tty; stat -c owner=%u $(tty); exit 7\n")
        XCTAssertEqual(status, 7, output)
        XCTAssertTrue(output.contains("40 100"), "the window size reaches the container: \(output)")
        XCTAssertTrue(output.contains("/dev/pts/"), output)
        XCTAssertTrue(output.contains("owner=1000"), "the pty belongs to the process's user: \(output)")
        harness.assertNoTrace("tty1")
    }

    func testExecTtyWithoutConsoleSocket() throws {
        let bundle = try harness.shellBundle("sleep 100")
        XCTAssertEqual(try harness.vessel(["run", "-d", "--bundle", bundle, "tty2"]).code, 0)
        let (output, status) = try onTerminal(
            ["--root", harness.stateRoot, "exec", "-t", "tty2", "sh"],
            input: "tty; stty size; exit 3\n")
        XCTAssertEqual(status, 3, output)
        XCTAssertTrue(output.contains("/dev/pts/"), output)
        XCTAssertTrue(output.contains("40 100"), output)
    }

    func testDetachedTerminalStillNeedsAConsoleSocket() throws {
        let bundle = try harness.bundle { $0.setProcess("terminal", true) }
        let outcome = try harness.vessel(["run", "-d", "--bundle", bundle, "tty3"])
        XCTAssertNotEqual(outcome.code, 0)
        XCTAssertTrue(outcome.stderr.contains("--console-socket"), outcome.stderr)
        harness.assertNoTrace("tty3")
    }
}
