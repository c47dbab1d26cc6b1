import Errors
import FoundationEssentials

// Turns config.json's bytes into a Spec, mapping decoding failures to a
// one-line VesselError that names the field (e.g. `process.args[0]`).
public enum SpecLoader {
    public static func decode(_ data: Data, path: String = "config.json") throws(VesselError) -> Spec {
        do {
            return try JSONDecoder().decode(Spec.self, from: data)
        } catch let error as DecodingError {
            throw describe(error, path: path)
        } catch {
            throw .malformedJSON(path: path, reason: "\(error)")
        }
    }

    public static func describe(_ error: DecodingError, path: String) -> VesselError {
        switch error {
        case let .typeMismatch(type, context):
            return .wrongType(field: fieldName(context.codingPath), expected: typeName(type))
        case let .valueNotFound(type, context):
            return .wrongType(field: fieldName(context.codingPath), expected: typeName(type) + ", found null")
        case let .keyNotFound(key, context):
            return .missingField(fieldName(context.codingPath + [key]))
        case let .dataCorrupted(context):
            if context.codingPath.isEmpty {
                // Foundation's decoder reports a number that does not fit its
                // field (a negative uid) the same way as broken syntax, with
                // no position: say both, rather than blame the syntax alone.
                let underlying =
                    context.underlyingError.map { "\($0)" }
                    ?? "the syntax is broken, or a number does not fit its field (such as a negative or too large id)"
                return .malformedJSON(path: path, reason: underlying)
            }
            return .invalidValue(field: fieldName(context.codingPath), reason: context.debugDescription)
        @unknown default:
            return .malformedJSON(path: path, reason: "\(error)")
        }
    }

    static func fieldName(_ path: [any CodingKey]) -> String {
        var name = ""
        for key in path {
            if let index = key.intValue {
                name += "[\(index)]"
            } else {
                name += name.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return name.isEmpty ? "(top level)" : name
    }

    static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int64.Type, is UInt64.Type, is UInt32.Type, is UInt16.Type: return "a number"
        case is [String].Type, is [Any].Type: return "an array"
        default:
            let text = "\(type)"
            if text.hasPrefix("Array") { return "an array" }
            if text.hasPrefix("Dictionary") { return "an object" }
            if text.contains("NamespaceType") { return "a namespace type" }
            return "an object"
        }
    }
}
