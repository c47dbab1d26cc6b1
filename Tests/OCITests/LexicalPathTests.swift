import OCI
import XCTest

// The one lexical normalizer, against the cases the kernel's walk gives.
final class LexicalPathTests: XCTestCase {
    func testComponentsDropDotsAndClampDotDotAtTheRoot() {
        let cases: [(String, [Substring], String)] = [
            ("/", [], ""), ("", [], ""), ("/a/b", ["a", "b"], "a/b"), ("a//b/", ["a", "b"], "a/b"),
            ("/a/./b/../c", ["a", "c"], "a/c"), ("/../../etc", ["etc"], "etc"), ("./x/..", [], ""),
            ("/dev/pts", ["dev", "pts"], "dev/pts"),
        ]
        for (path, components, relative) in cases {
            XCTAssertEqual(LexicalPath.components(path), components, path)
            XCTAssertEqual(LexicalPath.relative(path), relative, path)
            XCTAssertEqual(LexicalPath.absolute(path), "/" + relative, path)
            XCTAssertEqual(LexicalPath.joined(components[...]), components.joined(separator: "/"), path)
        }
    }
}
