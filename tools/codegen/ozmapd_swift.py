#!/usr/bin/env python3
"""protoc plugin: the Swift side of ozmapd's wire contract, from proto/.

For each .proto file it writes
  <name>.pb.swift    the messages and enums as Swift value types;
  <name>.pb-c.swift  their mapping to and from the protoc-c structs (libprotobuf-c
                     packs and unpacks: it stays the wire codec);
  <name>.grpc.swift  for a file with a service: the service on grpc-swift 2's
                     GRPCCore (descriptors, service protocols, client stubs);
and, with the parameter `samples`, the test fixtures `<name>.samples.swift`.

Everything is derived from the descriptors protoc hands over, so a proto field with
no Swift counterpart cannot exist, and a C name that protoc-c does not generate is a
compile error. Run by `make proto`; `make proto-check` fails on a stale copy.
Only what proto/ uses is supported (scalars, strings, bytes, enums, messages, repeated
fields, one-field oneofs as proto3 `optional`); anything else stops the generator.
"""
import hashlib
import sys

from google.protobuf.compiler import plugin_pb2
from google.protobuf import descriptor_pb2 as d

F = d.FieldDescriptorProto

# Each enum's first value (its proto3 default), by name; filled before generating.
ENUM_FIRST = {}

SWIFT_KEYWORDS = {
    "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init",
    "inout", "internal", "let", "open", "operator", "private", "protocol", "public", "rethrows", "static",
    "struct", "subscript", "typealias", "var", "break", "case", "continue", "default", "defer", "do",
    "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "switch", "where", "while",
    "as", "catch", "false", "is", "nil", "super", "self", "Self", "throw", "throws", "true", "try", "Type",
}

SCALARS = {
    # proto type: (Swift type, default literal, C-to-Swift expression, Swift-to-C expression)
    F.TYPE_STRING: ("String", '""', None, None),
    F.TYPE_BYTES: ("[UInt8]", "[]", None, None),
    F.TYPE_BOOL: ("Bool", "false", "{c} != 0", "{s} ? 1 : 0"),
    F.TYPE_INT32: ("Int32", "0", "{c}", "{s}"),
    F.TYPE_SINT32: ("Int32", "0", "{c}", "{s}"),
    F.TYPE_SFIXED32: ("Int32", "0", "{c}", "{s}"),
    F.TYPE_INT64: ("Int64", "0", "{c}", "{s}"),
    F.TYPE_SINT64: ("Int64", "0", "{c}", "{s}"),
    F.TYPE_SFIXED64: ("Int64", "0", "{c}", "{s}"),
    F.TYPE_UINT32: ("UInt32", "0", "{c}", "{s}"),
    F.TYPE_FIXED32: ("UInt32", "0", "{c}", "{s}"),
    F.TYPE_UINT64: ("UInt64", "0", "{c}", "{s}"),
    F.TYPE_FIXED64: ("UInt64", "0", "{c}", "{s}"),
    F.TYPE_DOUBLE: ("Double", "0", "{c}", "{s}"),
    F.TYPE_FLOAT: ("Float", "0", "{c}", "{s}"),
}


def fail(message):
    sys.stderr.write("protoc-gen-ozmapd-swift: " + message + "\n")
    sys.exit(1)


def camel_to_lower(name):
    """protoc-c's CamelToLower: ListOZmapOLTsRequest -> list_ozmap_olts_request."""
    out, was_upper = "", True
    for ch in name:
        if ch.isupper():
            if not was_upper:
                out += "_"
            out += ch.lower()
            was_upper = True
        else:
            out += ch
            was_upper = False
    return out


def lower_camel(snake):
    parts = snake.split("_")
    name = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    return "`%s`" % name if name in SWIFT_KEYWORDS else name


def doc(comments, indent):
    text = comments.strip("\n")
    if not text.strip():
        return ""
    lines = [l[1:] if l.startswith(" ") else l for l in text.split("\n")]
    return "".join("%s///%s\n" % (indent, (" " + l) if l else "") for l in lines)


class File:
    def __init__(self, proto, types):
        self.proto = proto
        self.types = types
        pkg = proto.package.split(".")
        self.c_type_prefix = "__".join(p[:1].upper() + p[1:] for p in pkg) + "__"
        self.c_func_prefix = "__".join(pkg) + "__"
        self.c_const_prefix = "__".join(p.upper() for p in pkg) + "__"
        self.comments = {}
        for loc in proto.source_code_info.location:
            if loc.leading_comments:
                self.comments[tuple(loc.path)] = loc.leading_comments

    def comment(self, path, indent):
        return doc(self.comments.get(tuple(path), ""), indent)


def swift_type_name(full_name):
    return full_name.rsplit(".", 1)[-1]


def enum_cases(enum):
    names = [v.name for v in enum.value]
    prefix = names[0]
    for n in names[1:]:
        while not n.startswith(prefix):
            prefix = prefix[:-1]
    prefix = prefix[: prefix.rfind("_") + 1] if len(names) > 1 else ""
    cases = []
    for v in enum.value:
        case = lower_camel(v.name[len(prefix):].lower())
        if case[:1].isdigit():
            fail("enum %s: value %s has no Swift name" % (enum.name, v.name))
        cases.append((case, v.number, v.name))
    if enum.value[0].number != 0:
        fail("enum %s: the first value must be 0 (proto3)" % enum.name)
    return cases


class Field:
    def __init__(self, msg, field, file):
        self.proto = field
        self.name = field.name
        self.number = field.number
        self.swift = lower_camel(field.name)
        self.repeated = field.label == F.LABEL_REPEATED
        self.type = field.type
        self.oneof = None
        if field.HasField("oneof_index"):
            oneof = msg.oneof_decl[field.oneof_index]
            members = [f for f in msg.field if f.HasField("oneof_index") and f.oneof_index == field.oneof_index]
            if len(members) != 1:
                fail("%s.%s: a oneof of more than one field is not supported" % (msg.name, oneof.name))
            self.oneof = oneof.name
        if field.type in (F.TYPE_MESSAGE, F.TYPE_ENUM):
            self.ref = swift_type_name(field.type_name)
        elif field.type in SCALARS:
            self.ref = SCALARS[field.type][0]
        else:
            fail("%s.%s: unsupported field type %d" % (msg.name, field.name, field.type))

    @property
    def optional(self):
        return not self.repeated and (self.type == F.TYPE_MESSAGE or self.oneof is not None)

    def swift_type(self):
        if self.repeated:
            return "[%s]" % self.ref
        return self.ref + ("?" if self.optional else "")

    def default(self):
        if self.repeated:
            return "[]"
        if self.optional:
            return "nil"
        if self.type == F.TYPE_ENUM:
            return "." + ENUM_FIRST[self.ref]
        return SCALARS[self.type][1]


HEADER = """// Generated by tools/codegen/ozmapd_swift.py from {source} (sha256 {digest}).
// Do not edit: change the proto and run `make proto`.
"""


def gen_messages(file, out):
    p = file.proto
    out.append("// The messages and enums of %s, as Swift value types.\n\n" % p.package)
    for ei, enum in enumerate(p.enum_type):
        out.append(file.comment([5, ei], ""))
        name = enum.name
        cases = enum_cases(enum)
        out.append("public enum %s: RawRepresentable, CaseIterable, Sendable, Hashable {\n" % name)
        for vi, (case, number, proto_name) in enumerate(cases):
            out.append(file.comment([5, ei, 2, vi], "    "))
            out.append("    case %s\n" % case)
        out.append("    /// A number this build does not know (a newer peer's value).\n")
        out.append("    case unrecognized(Int32)\n\n")
        out.append("    public static let allCases: [%s] = [%s]\n\n" % (name, ", ".join("." + c for c, _, _ in cases)))
        out.append("    public init(rawValue: Int32) {\n        switch rawValue {\n")
        for case, number, _ in cases:
            out.append("        case %d: self = .%s\n" % (number, case))
        out.append("        default: self = .unrecognized(rawValue)\n        }\n    }\n\n")
        out.append("    public var rawValue: Int32 {\n        switch self {\n")
        for case, number, _ in cases:
            out.append("        case .%s: %d\n" % (case, number))
        out.append("        case .unrecognized(let number): number\n        }\n    }\n\n")
        out.append("    /// The value's name in the proto (`%s`), or its number when unknown.\n" % cases[-1][2])
        out.append("    public var protoName: String {\n        switch self {\n")
        for case, _, proto_name in cases:
            out.append('        case .%s: "%s"\n' % (case, proto_name))
        out.append('        case .unrecognized(let number): "\\(number)"\n        }\n    }\n}\n\n')

    for mi, msg in enumerate(p.message_type):
        if msg.nested_type or msg.enum_type:
            fail("%s: nested types are not supported" % msg.name)
        fields = [Field(msg, f, file) for f in msg.field]
        out.append(file.comment([4, mi], ""))
        out.append("public struct %s: Sendable, Hashable {\n" % msg.name)
        for fi, f in enumerate(fields):
            comment = file.comment([4, mi, 2, fi], "    ")
            if not comment and f.oneof is not None:
                comment = file.comment([4, mi, 8, f.proto.oneof_index], "    ")
            out.append(comment)
            out.append("    public var %s: %s = %s\n" % (f.swift, f.swift_type(), f.default()))
        if fields:
            out.append("\n    public init() {}\n\n")
            params = ",\n".join("        %s: %s = %s" % (f.swift, f.swift_type(), f.default()) for f in fields)
            out.append("    public init(\n%s\n    ) {\n" % params)
            for f in fields:
                out.append("        self.%s = %s\n" % (f.swift.strip("`"), f.swift))
            out.append("    }\n")
        else:
            out.append("    public init() {}\n")
        out.append("}\n\n")


def gen_protobuf_c(file, out):
    p = file.proto
    out.append("// The messages of %s to and from their protoc-c structs: libprotobuf-c\n" % p.package)
    out.append("// packs and unpacks, this code only moves the fields.\n\n")
    out.append("import CProtobufC\nimport OZmapProtoC\n\n")
    for msg in p.message_type:
        fields = [Field(msg, f, file) for f in msg.field]
        ctype = file.c_type_prefix + msg.name
        cfunc = file.c_func_prefix + camel_to_lower(msg.name)
        cconst = file.c_const_prefix + camel_to_lower(msg.name).upper()
        full = "%s.%s" % (p.package, msg.name)
        w = out.append
        w("extension %s: ProtobufCMessageMapping {\n" % msg.name)
        w('    public static let protoName = "%s"\n\n' % full)
        # The work is in ProtobufCMessageMapping's extension (ProtobufCMapping.swift):
        # here, only what names this message's C functions.
        w("    public init(serializedBytes bytes: [UInt8]) throws(WireMessageError) {\n")
        w("        self = try Self.unpacked(from: bytes)\n    }\n\n")
        w("    public func serializedBytes() throws(WireMessageError) -> [UInt8] {\n")
        w("        try packed()\n    }\n\n")
        w("    static func initialize(_ message: UnsafeMutablePointer<%s>) {\n" % ctype)
        w("        %s__init(message)\n    }\n\n" % cfunc)
        w("    static func unpack(_ allocator: UnsafeMutablePointer<ProtobufCAllocator>, _ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<%s>? {\n" % ctype)
        w("        %s__unpack(allocator, bytes.count, bytes.baseAddress)\n    }\n\n" % cfunc)
        w("    static func packedSize(_ message: UnsafePointer<%s>) -> Int {\n" % ctype)
        w("        %s__get_packed_size(message)\n    }\n\n" % cfunc)
        w("    static func pack(_ message: UnsafePointer<%s>, into buffer: UnsafeMutablePointer<UInt8>?) -> Int {\n" % ctype)
        w("        %s__pack(message, buffer)\n    }\n\n" % cfunc)
        # unpacking
        used = "message" if fields else "_"
        w("    init(unpacking %s: UnsafePointer<%s>) throws(WireMessageError) {\n" % (used, ctype))
        w("        self.init()\n")
        for f in fields:
            c = "message.pointee.%s" % f.name
            sw = "self.%s" % f.swift.strip("`")
            at = '"%s"' % f.name
            if f.repeated:
                n = "message.pointee.n_%s" % f.name
                if f.type == F.TYPE_MESSAGE:
                    w("        %s = try ProtobufCFields.messages(%s, %s, %s, as: %s.self)\n" % (sw, n, c, at, f.ref))
                elif f.type == F.TYPE_STRING:
                    w("        %s = try ProtobufCFields.strings(%s, %s, %s)\n" % (sw, n, c, at))
                elif f.type == F.TYPE_BYTES:
                    w("        %s = ProtobufCFields.bytesList(%s, %s)\n" % (sw, n, c))
                elif f.type == F.TYPE_ENUM:
                    w("        %s = ProtobufCFields.scalars(%s, %s) { %s(rawValue: Int32(truncatingIfNeeded: $0.rawValue)) }\n" % (sw, n, c, f.ref))
                else:
                    w("        %s = ProtobufCFields.scalars(%s, %s) { %s }\n" % (sw, n, c, SCALARS[f.type][2].format(c="$0")))
                continue
            if f.type == F.TYPE_MESSAGE:
                value = "try ProtobufCFields.message(%s, %s, as: %s.self)" % (c, at, f.ref)
            elif f.type == F.TYPE_STRING:
                value = "try ProtobufCFields.string(%s, %s)" % (c, at)
            elif f.type == F.TYPE_BYTES:
                value = "ProtobufCFields.bytes(%s)" % c
            elif f.type == F.TYPE_ENUM:
                value = "%s(rawValue: Int32(truncatingIfNeeded: %s.rawValue))" % (f.ref, c)
            else:
                value = SCALARS[f.type][2].format(c=c)
            if f.oneof:
                case = "%s__%s_%s" % (cconst, f.oneof.upper(), f.name.upper())
                w("        if message.pointee.%s_case == %s {\n            %s = %s\n        }\n" % (f.oneof, case, sw, value))
            else:
                w("        %s = %s\n" % (sw, value))
        w("    }\n\n")
        # packing
        used_m = "message" if fields else "_"
        used_a = "arena" if any(f.repeated or f.type in (F.TYPE_STRING, F.TYPE_BYTES, F.TYPE_MESSAGE) for f in fields) else "_"
        w("    func fill(_ %s: inout %s, _ %s: inout ProtobufCArena) throws(WireMessageError) {\n" % (used_m, ctype, used_a))
        for f in fields:
            c = "message.%s" % f.name
            s = "self.%s" % f.swift.strip("`")
            at = '"%s"' % f.name
            if f.repeated:
                n = "message.n_%s" % f.name
                if f.type == F.TYPE_MESSAGE:
                    w("        (%s, %s) = try arena.messages(%s, %s)\n" % (n, c, s, at))
                elif f.type == F.TYPE_STRING:
                    w("        (%s, %s) = try arena.strings(%s, %s)\n" % (n, c, s, at))
                elif f.type == F.TYPE_BYTES:
                    w("        (%s, %s) = arena.bytesList(%s)\n" % (n, c, s))
                elif f.type == F.TYPE_ENUM:
                    w("        (%s, %s) = arena.scalars(%s) { .init(rawValue: .init(truncatingIfNeeded: $0.rawValue)) }\n" % (n, c, s))
                else:
                    w("        (%s, %s) = arena.scalars(%s) { %s }\n" % (n, c, s, SCALARS[f.type][3].format(s="$0")))
                continue
            if f.type == F.TYPE_MESSAGE and not f.oneof:
                w("        if let value = %s { %s = try arena.message(value, %s) }\n" % (s, c, at))
                continue
            if f.oneof:
                case = "%s__%s_%s" % (cconst, f.oneof.upper(), f.name.upper())
                w("        if let value = %s {\n            message.%s_case = %s\n" % (s, f.oneof, case))
                src, indent = "value", "            "
            else:
                src, indent = s, "        "
            # A oneof member is packed only when its pointer is set: an empty string or
            # bytes value must still point somewhere.
            if f.type == F.TYPE_MESSAGE:
                w("%s%s = try arena.message(%s, %s)\n" % (indent, c, src, at))
            elif f.type == F.TYPE_STRING and f.oneof:
                w("%s%s = try arena.presentString(%s, %s)\n" % (indent, c, src, at))
            elif f.type == F.TYPE_STRING:
                w("%s%s = try arena.string(%s, %s)\n" % (indent, c, src, at))
            elif f.type == F.TYPE_BYTES and f.oneof:
                w("%s%s = arena.presentBytes(%s)\n" % (indent, c, src))
            elif f.type == F.TYPE_BYTES:
                w("%s%s = arena.bytes(%s)\n" % (indent, c, src))
            elif f.type == F.TYPE_ENUM:
                w("%s%s = .init(rawValue: .init(truncatingIfNeeded: %s.rawValue))\n" % (indent, c, src))
            else:
                w("%s%s = %s\n" % (indent, c, SCALARS[f.type][3].format(s=src)))
            if f.oneof:
                w("        }\n")
        w("    }\n\n")
        # Every text field with its path, for the request-text rule (an interceptor).
        texts = [f for f in fields if f.type in (F.TYPE_STRING, F.TYPE_MESSAGE)]
        used_b = "body" if texts else "_"
        w("    public func forEachString(at %s: String, _ %s: (_ text: String, _ field: () -> String) throws -> Void) rethrows {\n" % (
            "path" if texts else "_", used_b))
        for f in texts:
            s = "self.%s" % f.swift.strip("`")
            field = 'ProtobufCFields.path(path, "%s")' % f.name
            if f.repeated:
                indexed = 'ProtobufCFields.path(path, "%s[\\(index)]")' % f.name
                if f.type == F.TYPE_STRING:
                    w("        for (index, text) in %s.enumerated() { try body(text) { %s } }\n" % (s, indexed))
                else:
                    w("        for (index, value) in %s.enumerated() { try value.forEachString(at: %s, body) }\n" % (s, indexed))
            elif f.type == F.TYPE_STRING and f.oneof:
                w("        if let text = %s { try body(text) { %s } }\n" % (s, field))
            elif f.type == F.TYPE_STRING:
                w("        try body(%s) { %s }\n" % (s, field))
            else:
                w("        if let value = %s { try value.forEachString(at: %s, body) }\n" % (s, field))
        w("    }\n}\n\n")


def lower_first(name):
    return name[:1].lower() + name[1:]


def gen_grpc(file, out):
    """The service on grpc-swift 2's GRPCCore, in the shape grpc-swift-protobuf
    generates: method descriptors, the three service protocols (streaming, request/
    response, simple) with registration, and the client protocol, struct and sugar.
    The messages are coded by WireSerializer/WireDeserializer (libprotobuf-c)."""
    p = file.proto
    w = out.append
    w("// The services of %s on grpc-swift 2's GRPCCore.\n\n" % p.package)
    w("public import GRPCCore\n\n")
    for si, svc in enumerate(p.service):
        S = svc.name
        full = "%s.%s" % (p.package, S)
        methods = []
        for mi, m in enumerate(svc.method):
            if m.client_streaming or m.server_streaming:
                fail("%s.%s: streaming methods are not supported" % (S, m.name))
            methods.append((mi, m.name, lower_first(m.name), swift_type_name(m.input_type), swift_type_name(m.output_type)))
        w("// MARK: - %s\n\n" % S)
        w(file.comment([6, si], ""))
        w("public enum %s: Sendable {\n" % S)
        w('    public static let descriptor = GRPCCore.ServiceDescriptor(fullyQualifiedService: "%s")\n\n' % full)
        w("    /// One type per method: its descriptor and its request and response messages.\n")
        w("    public enum Method: Sendable {\n")
        for mi, name, fn, inp, outp in methods:
            w(file.comment([6, si, 2, mi], "        "))
            w("        public enum %s: WireMethod {\n" % name)
            w("            public typealias Input = %s\n" % inp)
            w("            public typealias Output = %s\n" % outp)
            w('            public static let name = "%s"\n' % name)
            w("            public static let serviceName = %s.descriptor.fullyQualifiedService\n" % S)
            w("            public static let descriptor = GRPCCore.MethodDescriptor(service: %s.descriptor, method: name, type: .unary)\n" % S)
            w("        }\n\n")
        w("        /// Every method, in the order the proto declares them.\n")
        w("        public static let all: [any WireMethod.Type] = [\n")
        for _, name, _, _, _ in methods:
            w("            %s.self,\n" % name)
        w("        ]\n\n")
        w("        public static let descriptors: [GRPCCore.MethodDescriptor] = all.map { $0.descriptor }\n")
        w("    }\n}\n\n")

        # server
        w("// MARK: %s (server)\n\n" % S)
        w("extension %s {\n" % S)
        w("    /// Every method with streams of messages: what GRPCCore calls.\n")
        w("    public protocol StreamingServiceProtocol: GRPCCore.RegistrableRPCService {\n")
        for mi, name, fn, inp, outp in methods:
            w("        func %s(\n            request: GRPCCore.StreamingServerRequest<%s>,\n            context: GRPCCore.ServerContext\n        ) async throws -> GRPCCore.StreamingServerResponse<%s>\n\n" % (fn, inp, outp))
        w("    }\n\n")
        w("    /// Every method with one request and one response, metadata included.\n")
        w("    public protocol ServiceProtocol: %s.StreamingServiceProtocol {\n" % S)
        for mi, name, fn, inp, outp in methods:
            w("        func %s(\n            request: GRPCCore.ServerRequest<%s>,\n            context: GRPCCore.ServerContext\n        ) async throws -> GRPCCore.ServerResponse<%s>\n\n" % (fn, inp, outp))
        w("    }\n\n")
        w("    /// Every method as message in, message out: what a service implements.\n")
        w("    public protocol SimpleServiceProtocol: %s.ServiceProtocol {\n" % S)
        for mi, name, fn, inp, outp in methods:
            w(file.comment([6, si, 2, mi], "        "))
            w("        func %s(\n            request: %s,\n            context: GRPCCore.ServerContext\n        ) async throws -> %s\n\n" % (fn, inp, outp))
        w("    }\n}\n\n")
        w("extension %s.StreamingServiceProtocol {\n" % S)
        w("    public func registerMethods<Transport>(with router: inout GRPCCore.RPCRouter<Transport>) where Transport: GRPCCore.ServerTransport {\n")
        for mi, name, fn, inp, outp in methods:
            w("        router.registerHandler(\n")
            w("            forMethod: %s.Method.%s.descriptor,\n" % (S, name))
            w("            deserializer: WireDeserializer<%s>(.request),\n" % inp)
            w("            serializer: WireSerializer<%s>(.response),\n" % outp)
            w("            handler: { request, context in try await self.%s(request: request, context: context) }\n" % fn)
            w("        )\n")
        w("    }\n}\n\n")
        w("extension %s.ServiceProtocol {\n" % S)
        for mi, name, fn, inp, outp in methods:
            w("    public func %s(\n        request: GRPCCore.StreamingServerRequest<%s>,\n        context: GRPCCore.ServerContext\n    ) async throws -> GRPCCore.StreamingServerResponse<%s> {\n" % (fn, inp, outp))
            w("        GRPCCore.StreamingServerResponse(single: try await self.%s(request: GRPCCore.ServerRequest(stream: request), context: context))\n    }\n\n" % fn)
        w("}\n\n")
        w("extension %s.SimpleServiceProtocol {\n" % S)
        for mi, name, fn, inp, outp in methods:
            w("    public func %s(\n        request: GRPCCore.ServerRequest<%s>,\n        context: GRPCCore.ServerContext\n    ) async throws -> GRPCCore.ServerResponse<%s> {\n" % (fn, inp, outp))
            w("        GRPCCore.ServerResponse(message: try await self.%s(request: request.message, context: context), metadata: [:])\n    }\n\n" % fn)
        w("}\n\n")

        # client
        w("// MARK: %s (client)\n\n" % S)
        w("extension %s {\n" % S)
        w("    public protocol ClientProtocol: Sendable {\n")
        for mi, name, fn, inp, outp in methods:
            w("        func %s<Result: Sendable>(\n            request: GRPCCore.ClientRequest<%s>,\n            serializer: some GRPCCore.MessageSerializer<%s>,\n            deserializer: some GRPCCore.MessageDeserializer<%s>,\n            options: GRPCCore.CallOptions,\n            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<%s>) async throws -> Result\n        ) async throws -> Result\n\n" % (fn, inp, inp, outp, outp))
        w("    }\n\n")
        w("    /// Calls %s through a GRPCCore client on any transport.\n" % S)
        w("    public struct Client<Transport: GRPCCore.ClientTransport>: ClientProtocol {\n")
        w("        private let client: GRPCCore.GRPCClient<Transport>\n\n")
        w("        public init(wrapping client: GRPCCore.GRPCClient<Transport>) {\n            self.client = client\n        }\n\n")
        for mi, name, fn, inp, outp in methods:
            w("        public func %s<Result: Sendable>(\n            request: GRPCCore.ClientRequest<%s>,\n            serializer: some GRPCCore.MessageSerializer<%s>,\n            deserializer: some GRPCCore.MessageDeserializer<%s>,\n            options: GRPCCore.CallOptions = .defaults,\n            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<%s>) async throws -> Result = { try $0.message }\n        ) async throws -> Result {\n" % (fn, inp, inp, outp, outp))
            w("            try await client.unary(\n                request: request,\n                descriptor: %s.Method.%s.descriptor,\n                serializer: serializer,\n                deserializer: deserializer,\n                options: options,\n                onResponse: handleResponse\n            )\n        }\n\n" % (S, name))
        w("    }\n}\n\n")
        w("extension %s.ClientProtocol {\n" % S)
        for mi, name, fn, inp, outp in methods:
            w(file.comment([6, si, 2, mi], "    "))
            w("    public func %s<Result: Sendable>(\n        request: GRPCCore.ClientRequest<%s>,\n        options: GRPCCore.CallOptions = .defaults,\n        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<%s>) async throws -> Result = { try $0.message }\n    ) async throws -> Result {\n" % (fn, inp, outp))
            w("        try await %s(request: request, serializer: WireSerializer<%s>(.request), deserializer: WireDeserializer<%s>(.response), options: options, onResponse: handleResponse)\n    }\n\n" % (fn, inp, outp))
            w(file.comment([6, si, 2, mi], "    "))
            w("    public func %s<Result: Sendable>(\n        _ message: %s,\n        metadata: GRPCCore.Metadata = [:],\n        options: GRPCCore.CallOptions = .defaults,\n        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<%s>) async throws -> Result = { try $0.message }\n    ) async throws -> Result {\n" % (fn, inp, outp))
            w("        try await %s(request: GRPCCore.ClientRequest(message: message, metadata: metadata), options: options, onResponse: handleResponse)\n    }\n\n" % fn)
        w("}\n")


def sample_value(f, file, depth):
    """A value for every field that differs from its default and names the field, so a
    test can tell which field a value landed in: strings "name:number", numbers the
    field number, enums their last value, messages their own sample."""
    def one():
        if f.type == F.TYPE_STRING:
            return '"%s:%d·é"' % (f.name, f.number)
        if f.type == F.TYPE_BYTES:
            return "[%d, 0, 255]" % f.number
        if f.type == F.TYPE_BOOL:
            return "true"
        if f.type == F.TYPE_ENUM:
            return ".%s" % file.enum_last[f.ref]
        if f.type == F.TYPE_MESSAGE:
            return "%s.wireSample" % f.ref
        return "%d" % f.number
    if f.repeated:
        return "[%s, %s]" % (one(), one())
    return one()


def gen_samples(file, out):
    p = file.proto
    out.append("// Test fixtures: every field of every message of %s set to a value that names it.\n\n" % p.package)
    out.append("import ArcholtOZmapV1\n\n")
    for msg in p.message_type:
        fields = [Field(msg, f, file) for f in msg.field]
        out.append("extension %s {\n    static var wireSample: Self {\n" % msg.name)
        if fields:
            args = ",\n".join("            %s: %s" % (f.swift.strip("`"), sample_value(f, file, 0)) for f in fields)
            out.append("        .init(\n%s\n        )\n" % args)
        else:
            out.append("        .init()\n")
        out.append("    }\n}\n\n")
    out.append("/// For each bool and enum field, its message with only that field set: every bool sample\n")
    out.append("/// is true and enums share values, so only these tell two such fields apart on the wire.\n")
    out.append("let %sOneFieldSamples: [(field: String, message: any WireMessage)] = [\n" % lower_camel(file.proto.name.rsplit("/", 1)[-1].split(".")[0]))
    for msg in p.message_type:
        for f in [Field(msg, f, file) for f in msg.field]:
            if f.type in (F.TYPE_BOOL, F.TYPE_ENUM) and not f.repeated:
                out.append('    ("%s", %s(%s: %s)),\n' % (f.name, msg.name, f.swift.strip("`"), sample_value(f, file, 0)))
    out.append("]\n\n")
    out.append("/// Every message of %s with its sample, for the round-trip tests.\n" % p.package)
    out.append("let %sSamples: [any WireMessage] = [\n" % lower_camel(file.proto.name.rsplit("/", 1)[-1].split(".")[0]))
    for msg in p.message_type:
        out.append("    %s.wireSample,\n" % msg.name)
    out.append("]\n")


def main():
    request = plugin_pb2.CodeGeneratorRequest.FromString(sys.stdin.buffer.read())
    samples = "samples" in request.parameter.split(",")
    response = plugin_pb2.CodeGeneratorResponse()
    protos = {f.name: f for f in request.proto_file}
    enum_last = {}
    for proto in request.proto_file:
        for enum in proto.enum_type:
            enum_last[enum.name] = enum_cases(enum)[-1][0]
            ENUM_FIRST[enum.name] = enum_cases(enum)[0][0]
    for name in request.file_to_generate:
        proto = protos[name]
        if proto.syntax != "proto3":
            fail("%s: only proto3 is supported (presence fields of proto2 would be dropped)" % name)
        file = File(proto, None)
        file.enum_last = enum_last
        digest = hashlib.sha256(proto.SerializeToString()).hexdigest()[:16]
        base = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        header = HEADER.format(source=name, digest=digest)
        outputs = []
        if samples:
            outputs.append((base + ".samples.swift", gen_samples))
        else:
            outputs.append((base + ".pb.swift", gen_messages))
            outputs.append((base + ".pb-c.swift", gen_protobuf_c))
            if proto.service:
                outputs.append((base + ".grpc.swift", gen_grpc))
        for filename, generate in outputs:
            body = [header, "\n"]
            generate(file, body)
            text = "".join(body).rstrip("\n") + "\n"
            response.file.add(name=filename, content=text)
    sys.stdout.buffer.write(response.SerializeToString())


if __name__ == "__main__":
    main()
