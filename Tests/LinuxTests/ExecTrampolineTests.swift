import CVessel
import Foundation
import Glibc
@testable import Linux
import OSKit
import XCTest

/// The sealed exec trampoline (see ExecTrampoline): it runs a program with
/// its arguments and environment, says why in the init's words and exits 1
/// when it cannot, and is a memfd nobody can write to.
final class ExecTrampolineTests: XCTestCase {
    func trampolineOrSkip() throws -> ExecTrampoline {
        do {
            return try ExecTrampoline.make()
        } catch {
            throw XCTSkip("no exec trampoline here: \(error)")
        }
    }

    /// Runs the trampoline file with `arguments` (argv[0] first); its stdout and stderr and exit status.
    func run(_ trampoline: ExecTrampoline, _ arguments: [String], environment: [String] = []) throws -> (out: String, code: Int32) {
        let request = SpawnRequest(path: "/proc/self/fd/\(trampoline.fd)", arguments: arguments, environment: environment)
        let (pid, fd) = try Spawner.spawn(request, pipe: .fromChild) { request, end in request.stdio = (-1, end, end) }
        var output = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            output += buffer[0..<count]
        }
        close(fd)
        return (String(decoding: output, as: UTF8.self), Spawner.exitCode(fromWaitStatus: Spawner.wait(pid)))
    }

    func testRunsTheProgramWithItsArgumentsAndEnvironment() throws {
        let trampoline = try trampolineOrSkip()
        defer { trampoline.close() }
        let result = try run(
            trampoline, ["vessel-exec", "/bin/sh", "sh", "-c", "echo \"$0 $1 $GREETING\"", "zero", "one"],
            environment: ["GREETING=hello"])
        XCTAssertEqual(result.code, 0)
        XCTAssertEqual(result.out, "zero one hello\n")
    }

    /// The line and status of a re-executed init whose execve fails
    /// (ContainerInit.Prepared.exec, as runc's init): `exec <path>: <reason>`, 1.
    func testAProgramThatCannotRunIsTheInitsLineAndStatus1() throws {
        let trampoline = try trampolineOrSkip()
        defer { trampoline.close() }
        // Executable, but neither ELF nor #!: ENOEXEC.
        let garbage = NSTemporaryDirectory() + "vessel-trampoline-\(getpid())"
        XCTAssertTrue(FileManager.default.createFile(atPath: garbage, contents: Data([0, 0, 0, 0]), attributes: [.posixPermissions: 0o755]))
        defer { unlink(garbage) }
        let cases: [(path: String, reason: Int32)] = [("/nonexistent/program", ENOENT), ("/", EACCES), (garbage, ENOEXEC)]
        for (path, reason) in cases {
            let result = try run(trampoline, ["vessel-exec", path, "program"])
            XCTAssertEqual(result.code, 1, path)
            XCTAssertEqual(result.out, "exec \(path): \(ContainerInit.Prepared.goErrorText(reason))\n")
        }
        let bare = try run(trampoline, ["vessel-exec"])
        XCTAssertEqual(bare.code, 1, "no program named: refused, not a crash")
        XCTAssertEqual(bare.out, "exec : bad address\n")
    }

    func testItIsSealedAgainstWrites() throws {
        let trampoline = try trampolineOrSkip()
        defer { trampoline.close() }
        // F_GET_SEALS; F_SEAL_SEAL, _SHRINK, _GROW, _WRITE (Glibc does not export them).
        let seals = fcntl(trampoline.fd, 1034)
        XCTAssertGreaterThanOrEqual(seals, 0)
        for seal: Int32 in [1, 2, 4, 8] {
            XCTAssertNotEqual(seals & seal, 0, "seal \(seal)")
        }
        let writable = open("/proc/self/fd/\(trampoline.fd)", O_WRONLY | O_CLOEXEC)
        if writable >= 0 {
            defer { close(writable) }
            var byte: UInt8 = 0
            XCTAssertEqual(write(writable, &byte, 1), -1)
            XCTAssertEqual(errno, EPERM)
        }
        XCTAssertNotEqual(fcntl(trampoline.fd, F_GETFD) & FD_CLOEXEC, 0, "close-on-exec: it must not reach the program")
    }
}
