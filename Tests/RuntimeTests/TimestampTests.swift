import Glibc
@testable import Runtime
import XCTest

// `created` is computed by arithmetic, not gmtime_r: the same text as
// gmtime_r gives, for dates across centuries and every day of a leap year.
final class TimestampTests: XCTestCase {
    func reference(_ seconds: Int64, _ nanoseconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let nanos = String(nanoseconds)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))."
            + String(repeating: "0", count: 9 - nanos.count) + nanos + "Z"
    }

    func testTheSameTextAsGmtime() {
        var samples: [Int64] = [0, 59, 86_399, 86_400, 951_782_400, 951_868_799, 1_709_164_800, 4_102_444_800, 253_402_300_799]
        // Every day of 2024 (a leap year) and 2100 (not one), at varied times.
        for start in [Int64(1_704_067_200), 4_102_444_800] {
            for day in Int64(0)..<367 { samples.append(start + day * 86_400 + day * 137 % 86_400) }
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            samples.append(Int64(state >> 31) % 253_402_300_800)
        }
        for seconds in samples {
            for nanoseconds: Int64 in [0, 7, 123_456_789, 999_999_999] {
                XCTAssertEqual(Timestamp.format(seconds: seconds, nanoseconds: nanoseconds), reference(seconds, nanoseconds), "\(seconds)")
            }
        }
    }

    func testNowIsUTCWithNanoseconds() {
        let text = Timestamp.now()
        XCTAssertEqual(text.count, 30, text)
        XCTAssertTrue(text.hasSuffix("Z"))
    }
}
