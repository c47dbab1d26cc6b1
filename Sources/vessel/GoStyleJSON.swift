import FoundationEssentials
import Runtime

// JSON as runc prints it: keys in the order the type declares them, and
// either compact (`list`, `ps --format json`) or indented the way Go's
// json.MarshalIndent does it ("key": value, empty {} and [] kept on one
// line). Foundation's pretty printer writes "key" : value instead.
enum GoStyleJSON {
    /// Keys sorted (Foundation's encoder keeps no declaration order); for
    /// runc's key order see `object`.
    static func encode<T: Encodable>(_ value: T, indent: String? = "  ") throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let compact = String(decoding: try encoder.encode(value), as: UTF8.self)
        guard let indent else { return compact }
        return indented(compact, by: indent)
    }

    /// A compact object with its members in the given order; each value is
    /// already JSON (from `value(_:)`).
    static func object(_ members: [(String, String?)]) -> String {
        "{" + members.compactMap { key, value in value.map { quoted(key) + ":" + $0 } }.joined(separator: ",") + "}"
    }

    static func value<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func quoted(_ text: String) -> String { value(text) }

    /// Re-indents compact JSON; string contents are copied untouched.
    static func indented(_ compact: String, by indent: String) -> String {
        var output = ""
        var depth = 0
        var inString = false
        var escaped = false
        let characters = Array(compact)
        func newline() { output += "\n" + String(repeating: indent, count: depth) }
        for (index, character) in characters.enumerated() {
            if inString {
                output.append(character)
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
                continue
            }
            switch character {
            case "\"":
                inString = true
                output.append(character)
            case "{", "[":
                output.append(character)
                let closer: Character = character == "{" ? "}" : "]"
                if index + 1 < characters.count, characters[index + 1] == closer { continue }
                depth += 1
                newline()
            case "}", "]":
                if index > 0, characters[index - 1] == (character == "}" ? "{" : "[") {
                    output.append(character)
                    continue
                }
                depth -= 1
                newline()
                output.append(character)
            case ",":
                output.append(character)
                newline()
            case ":":
                output += ": "
            default:
                output.append(character)
            }
        }
        return output
    }
}

extension Lifecycle.StateReport {
    /// runc's `state` and `list` shape: its key order, annotations omitted
    /// when there are none.
    var runcJSON: String {
        GoStyleJSON.object([
            ("ociVersion", GoStyleJSON.value(ociVersion)), ("id", GoStyleJSON.value(id)), ("pid", "\(pid)"),
            ("status", GoStyleJSON.value(status.rawValue)), ("bundle", GoStyleJSON.value(bundle)),
            ("rootfs", GoStyleJSON.value(rootfs)), ("created", GoStyleJSON.value(created)),
            ("owner", GoStyleJSON.value(owner)),
            ("annotations", (annotations ?? [:]).isEmpty ? nil : GoStyleJSON.value(annotations)),
        ])
    }
}
