#!/usr/bin/env python3
"""A stand-in OpenTelemetry collector: accepts OTLP over HTTP/protobuf (POST /v1/traces, /v1/metrics, /v1/logs) on a
loopback port, decodes each request with the OTLP field numbers (opentelemetry-proto, trace/metrics v1; no protobuf
library needed) and appends what it received to a file as JSON lines: one per span, one per metric data point.
The service's exporter is pointed at it with CdsMitral:Telemetry:OtlpEndpoint=http://127.0.0.1:PORT and
OtlpProtocol=HttpProtobuf. Used by bench/telemetry-overhead.sh; docs/operations.md shows a trace it received.

Usage: bench/otlp-sink.py PORT OUT.ndjson
"""
import json
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def fields(buf):
    """Yields (field number, wire type, value) of one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            length, i = varint(buf, i)
            value, i = buf[i:i + length], i + length
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def any_value(buf):
    for n, w, v in fields(buf):
        if n == 1:
            return v.decode()
        if n == 2:
            return bool(v)
        if n == 3:
            return v - (1 << 64) if v >= 1 << 63 else v
        if n == 4:
            return struct.unpack("<d", v)[0]
        if n == 5:
            return [any_value(x) for m, _, x in fields(v) if m == 1]
        if n == 7:
            return v.hex()
    return None


def attributes(items):
    out = {}
    for buf in items:
        key = value = None
        for n, _, v in fields(buf):
            if n == 1:
                key = v.decode()
            elif n == 2:
                value = any_value(v)
        out[key] = value
    return out


def grouped(buf):
    g = {}
    for n, w, v in fields(buf):
        g.setdefault(n, []).append(v)
    return g


def resource_and_scopes(request, scope_field):
    for resource_block in grouped(request).get(1, []):
        r = grouped(resource_block)
        resource = attributes(grouped(r[1][0]).get(1, [])) if 1 in r else {}
        for scope_block in r.get(2, []):
            s = grouped(scope_block)
            scope = grouped(s[1][0]) if 1 in s else {}
            name = scope.get(1, [b""])[0].decode()
            yield resource, name, s.get(scope_field, [])


KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def spans(request):
    for resource, scope, items in resource_and_scopes(request, 2):
        for buf in items:
            s = grouped(buf)
            start = struct.unpack("<Q", s[7][0])[0] if 7 in s else 0
            end = struct.unpack("<Q", s[8][0])[0] if 8 in s else 0
            status = grouped(s[15][0]) if 15 in s else {}
            yield {
                "service": resource.get("service.name"),
                "scope": scope,
                "traceId": s.get(1, [b""])[0].hex(),
                "spanId": s.get(2, [b""])[0].hex(),
                "parentSpanId": s.get(4, [b""])[0].hex(),
                "name": s.get(5, [b""])[0].decode(),
                "kind": KINDS.get(s.get(6, [0])[0], "?"),
                "durationMs": round((end - start) / 1e6, 3),
                "attributes": attributes(s.get(9, [])),
                "status": {1: "ok", 2: "error"}.get(status.get(3, [0])[0], "unset"),
            }


def points(request):
    for resource, scope, items in resource_and_scopes(request, 2):
        for buf in items:
            m = grouped(buf)
            name = m.get(1, [b""])[0].decode()
            unit = m.get(3, [b""])[0].decode()
            for kind, number in (("gauge", 5), ("sum", 7), ("histogram", 9)):
                for data in m.get(number, []):
                    for p in grouped(data).get(1, []):
                        d = grouped(p)
                        point = {"metric": name, "unit": unit, "type": kind, "scope": scope}
                        if kind == "histogram":
                            point["attributes"] = attributes(d.get(9, []))
                            point["count"] = struct.unpack("<Q", d[4][0])[0] if 4 in d else 0
                            point["sum"] = struct.unpack("<d", d[5][0])[0] if 5 in d else None
                        else:
                            point["attributes"] = attributes(d.get(7, []))
                            if 4 in d:
                                point["value"] = struct.unpack("<d", d[4][0])[0]
                            elif 6 in d:
                                point["value"] = struct.unpack("<q", d[6][0])[0]
                        yield point


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        decoded = []
        if self.path == "/v1/traces":
            decoded = [{"span": s} for s in spans(body)]
        elif self.path == "/v1/metrics":
            decoded = [{"point": p} for p in points(body)]
        with open(OUT, "a", encoding="utf-8") as out:
            for item in decoded:
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    PORT, OUT = int(sys.argv[1]), sys.argv[2]
    ThreadingHTTPServer(("127.0.0.1", PORT), Sink).serve_forever()
