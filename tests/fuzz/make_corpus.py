#!/usr/bin/python3
"""Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/).

Each seed is a valid or nearly valid input of its target's format (see the
header comment of each fuzz_*.cc), so the fuzzers start from requests that go
deep. Binary protobuf seeds are encoded with protoc from text format. Rerun
after changing an input format: tests/fuzz/make_corpus.py
"""
import os
import pathlib
import subprocess
import struct

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests/fuzz/corpus"


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (folder / name).write_bytes(data)


def encode(message, text):
    """The binary encoding of a kvstore.v1 message given in text format."""
    return subprocess.run(
        ["protoc", f"--encode=kvstore.v1.{message}", "-I", str(ROOT / "protos"),
         "kvstore/v1/store.proto"],
        input=text.encode(), capture_output=True, check=True).stdout


def varint(n):
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


SET_CELL = ('{"rowKey": "cm93", "mutations": [{"setCell": {"familyName": "f",'
            ' "columnQualifier": "cQ==", "timestampMicros": "1000", "value": "dg=="}}]}')
FILTER_JSON = ('{"chain": {"filters": [{"familyNameRegex": "f"}, {"interleave": {"filters":'
               ' [{"passAll": true}, {"chain": {"filters": [{"applyLabel": "x"},'
               ' {"sink": true}]}}]}}, {"cellsPerColumnLimit": 1}]}}')


def seed_query():
    for i, q in enumerate(["k=v", "key=hello", "a%20b=c+d", "x=%00%ff", "a=1&b=2",
                           "=v", "bad=%zz", "k=", "&&k=v&"]):
        write("fuzz_seed_query", f"seed{i}", q)


def http_server():
    def req(method, target, body="", headers=""):
        head = f"{method} {target} HTTP/1.1\r\nHost: fuzz\r\n{headers}"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return head + "\r\n" + body

    seeds = {
        "set": req("GET", "/set?k=v"),
        "get": req("GET", "/get?key=k"),
        "pipelined": req("GET", "/set?a=1") + req("GET", "/get?key=a"),
        "mutate": req("POST", "/v1/tables/t:mutateRow", SET_CELL),
        "read": req("POST", "/v1/tables/t:readRows", '{"filter": ' + FILTER_JSON + "}"),
        "chunked": ("POST /v1/tables/t:readRows HTTP/1.1\r\nHost: f\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"),
        "create": req("POST", "/v1/tables",
                      '{"table": {"name": "t2", "columnFamilies": [{"name": "f"}]}}'),
        "delete": req("DELETE", "/v1/tables/t2"),
        "sample": req("GET", "/v1/tables/t:sampleRowKeys"),
        "metrics": req("GET", "/metrics") + req("GET", "/healthz") + req("GET", "/readyz"),
        "bad_method": req("PUT", "/v1/tables/t:mutateRow", "{}"),
        "bad_line": "GARBAGE\r\n\r\n",
        "expect": req("POST", "/v1/tables/t:mutateRow", SET_CELL, "Expect: 100-continue\r\n"),
        "protobuf": ("POST /v1/tables/t:readRows HTTP/1.1\r\nHost: f\r\n"
                     "Content-Type: application/x-protobuf\r\nAccept: application/x-protobuf\r\n"
                     "Content-Length: 0\r\n\r\n"),
    }
    for name, data in seeds.items():
        write("fuzz_http_server", name, data)


def data_api():
    # [route][table][body]; routes as fuzz_data_api.cc's kRoutes, bit 7 = binary.
    json_seeds = {
        0: SET_CELL,
        1: '{"entries": [{"rowKey": "YQ==", "mutations": [{"deleteFromRow": {}}]},'
           ' {"rowKey": "Yg==", "mutations": [{"setCell": {"familyName": "g", "value": "eA=="}}]}]}',
        2: '{"rows": {"rowKeys": ["cm93"], "rowRanges": [{"startClosed": "YQ==", "endOpen": "eg=="}]},'
           ' "filter": ' + FILTER_JSON + ', "rowsLimit": "5", "reversed": true}',
        3: '{"rowKey": "cm93", "predicate": {"valueRegex": "dg=="}, "trueMutations":'
           ' [{"deleteFromColumn": {"familyName": "f", "columnQualifier": "cQ=="}}],'
           ' "falseMutations": [{"setCell": {"familyName": "g", "value": "eQ=="}}]}',
        4: '{"rowKey": "cm93", "rules": [{"familyName": "f", "columnQualifier": "Yw==",'
           ' "incrementAmount": "1"}, {"familyName": "g", "appendValue": "eHg="}]}',
        5: "",
        6: '{"table": {"name": "t2", "columnFamilies": [{"name": "f", "gcRule":'
           ' {"maxVersions": 2}}, {"name": "h", "gcRule": {"maxAgeMicros": "1000"}}]}}',
        7: "",
        8: "",
        9: "",
    }
    for route, body in json_seeds.items():
        write("fuzz_data_api", f"json{route}", bytes([route, 0]) + body.encode())
    binary = {
        0: ("MutateRowRequest", 'row_key: "row" mutations { set_cell { family_name: "f" '
            'column_qualifier: "q" timestamp_micros: -1 value: "v" } }'),
        1: ("MutateRowsRequest", 'entries { row_key: "a" mutations { delete_from_family '
            '{ family_name: "f" } } } entries { row_key: "b" mutations { set_cell { '
            'family_name: "g" value: "x" } } }'),
        2: ("ReadRowsRequest", 'rows { row_ranges { start_open: "a" end_closed: "z" } } '
            'filter { condition { predicate { column_qualifier_regex: "q" } '
            'if_true { strip_value: true } if_false { block_all: true } } } '
            'rows_limit: 3'),
        4: ("ReadModifyWriteRowRequest", 'row_key: "row" rules { family_name: "f" '
            'column_qualifier: "n" increment_amount: 5 }'),
    }
    for route, (message, text) in binary.items():
        try:
            body = encode(message, text)
        except subprocess.CalledProcessError as e:
            raise SystemExit(f"{message}: {e.stderr.decode()}")
        write("fuzz_data_api", f"binary{route}", bytes([route | 0x80, 1]) + body)


def row_filter():
    row = b""
    for family, qualifier, ts, value in [(0, 1, 3, b"ax3"), (0, 1, 2, b"ax2"), (1, 2, 5, b"bz"),
                                         (2, 0x81, 9, b"cf"), (3, 0, 1, b"")]:
        row += bytes([family, qualifier, ts, len(value)]) + value
    specs = {
        "json_chain": FILTER_JSON.encode(),
        "json_condition": b'{"condition": {"predicate": {"valueRegex": "YS4q"}, "ifTrue":'
                          b' {"stripValue": true}, "ifFalse": {"cellsPerRowOffset": 1}}}',
        "json_ranges": b'{"interleave": {"filters": [{"columnRange": {"familyName": "a",'
                       b' "startQualifierClosed": "", "endQualifierOpen": "cXE="}},'
                       b' {"timestampRange": {"startTimestampMicros": "2000"}}]}}',
        "binary_sink": encode("RowFilter", "sink: true"),
        "binary_chain": encode("RowFilter", 'chain { filters { family_name_regex: "a|b" } '
                               'filters { value_range { start_value_closed: "a" } } '
                               'filters { cells_per_row_limit: 2 } }'),
        "binary_sample": encode("RowFilter", "row_sample: 0.5"),
    }
    for name, spec in specs.items():
        write("fuzz_row_filter", name, struct.pack(">H", len(spec)) + spec + row)


def injection_params():
    # [point][method][query]\n[body]; method 0 = POST, 1 = GET, 2 = DELETE.
    seeds = {
        "error_json": (0, 0, "", '{"action": "error", "status": "503", "retry_after": "1"}'),
        "error_query": (1, 0, "one_shot=true", "action=error&status=429&code=14"),
        "delay": (2, 0, "", '{"action": "delay", "delay_ms": "5", "tag": "t1"}'),
        "pause": (3, 0, "", '{"action": "pause", "row_key": "r", "count": "2"}'),
        "drop": (0, 0, "", '{"action": "drop", "probability": "0.5"}'),
        "truncate": (4, 0, "", '{"action": "truncate", "after_rows": "3"}'),
        "reset": (0, 0, "", '{"action": "reset"}'),
        "bad": (5, 0, "", '{"action": "explode"}'),
        "state": (6, 1, "", ""),
        "disarm": (0, 2, "", ""),
        "unknown": (200, 0, "nosuch", "{}"),
    }
    for name, (point, method, query, body) in seeds.items():
        write("fuzz_injection_params", name,
              bytes([point, method]) + query.encode() + b"\n" + body.encode())


def client_decoders():
    row = encode("ReadRowsResponse", 'row { key: "r" families { name: "f" columns { '
                 'qualifier: "q" cells { timestamp_micros: 5 value: "v" } } } }')
    status = encode("ReadRowsResponse", "status { code: 0 }")
    stream = varint(len(row)) + row + varint(len(row)) + row + varint(len(status)) + status
    write("fuzz_client_decoders", "rows", bytes([0, 3]) + stream)
    write("fuzz_client_decoders", "rows_cut", bytes([0, 0]) + stream[:-3])
    write("fuzz_client_decoders", "error_json",
          bytes([1, 0]) + b'{"code": 5, "message": "table \'x\' not found"}')
    write("fuzz_client_decoders", "error_text", bytes([1, 0]) + b"Error: busy")
    sse = (b": heartbeat\n\nevent: hello\ndata: {\"current_seq\":7}\n\n"
           b"id: 8\nevent: fired\ndata: {\"injection\":\"storage.write\",\"type\":\"error\"}\n\n"
           b"event: gap\ndata: {\"lost_to\":12}\ndata: second line\n\n")
    write("fuzz_client_decoders", "sse", bytes([2, 5]) + sse)


if __name__ == "__main__":
    seed_query()
    http_server()
    data_api()
    row_filter()
    injection_params()
    client_decoders()
    print("seeds:", sum(1 for _ in CORPUS.rglob("*") if _.is_file()))
