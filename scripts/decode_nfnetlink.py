#!/usr/bin/env python3
"""Decodes a capture written by capture_netlink.c (records of 4-byte little-endian length + the
bytes one send handed to a netlink socket) as nfnetlink / nf_tables messages, so that what
iptables-nft and nft send can be compared, attribute by attribute, with what our code sends.

    decode_nfnetlink.py CAPTURE            every message, attributes decoded recursively
    decode_nfnetlink.py --summary CAPTURE  one line per message (rules as an expression list)
    decode_nfnetlink.py --raw CAPTURE      also each message's bytes as hex

Stdlib only. Numbers from linux/netfilter/nf_tables.h, nfnetlink.h, nfnetlink_compat.h and the
x_tables extension headers; anything unknown is printed as hex.
"""
import argparse
import socket
import struct
import sys

# --- constants ---------------------------------------------------------------------------------

NFNL_SUBSYS = {0: "NONE", 1: "CTNETLINK", 2: "CTNETLINK_EXP", 3: "QUEUE", 4: "ULOG", 5: "OSF",
               6: "IPSET", 7: "ACCT", 8: "CTNETLINK_TIMEOUT", 9: "CTHELPER", 10: "NFTABLES",
               11: "NFT_COMPAT", 12: "HOOK"}
NFNL_SUBSYS_NFTABLES = 10
NFNL_SUBSYS_NFT_COMPAT = 11

NFT_MSG = ["NEWTABLE", "GETTABLE", "DELTABLE", "NEWCHAIN", "GETCHAIN", "DELCHAIN", "NEWRULE",
           "GETRULE", "DELRULE", "NEWSET", "GETSET", "DELSET", "NEWSETELEM", "GETSETELEM",
           "DELSETELEM", "NEWGEN", "GETGEN", "TRACE", "NEWOBJ", "GETOBJ", "DELOBJ", "GETOBJ_RESET",
           "NEWFLOWTABLE", "GETFLOWTABLE", "DELFLOWTABLE", "GETRULE_RESET", "DESTROYTABLE",
           "DESTROYCHAIN", "DESTROYRULE", "DESTROYSET", "DESTROYSETELEM", "DESTROYOBJ",
           "DESTROYFLOWTABLE", "GETSETELEM_RESET"]

NLMSG_CONTROL = {1: "NLMSG_NOOP", 2: "NLMSG_ERROR", 3: "NLMSG_DONE", 4: "NLMSG_OVERRUN",
                 0x10: "NFNL_MSG_BATCH_BEGIN", 0x11: "NFNL_MSG_BATCH_END"}

FAMILY = {0: "UNSPEC", 1: "INET", 2: "IPV4", 3: "ARP", 5: "NETDEV", 7: "BRIDGE", 10: "IPV6"}

FLAGS_COMMON = [(0x01, "REQUEST"), (0x02, "MULTI"), (0x04, "ACK"), (0x08, "ECHO"),
                (0x10, "DUMP_INTR"), (0x20, "DUMP_FILTERED")]
FLAGS_GET = [(0x100, "ROOT"), (0x200, "MATCH"), (0x400, "ATOMIC")]
FLAGS_NEW = [(0x100, "REPLACE"), (0x200, "EXCL"), (0x400, "CREATE"), (0x800, "APPEND")]
FLAGS_DEL = [(0x100, "NONREC"), (0x200, "BULK")]

HOOKS = {2: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
         10: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
         1: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING", "INGRESS"]}

REGISTERS = {0: "verdict", 1: "reg1", 2: "reg2", 3: "reg3", 4: "reg4"}
REGISTERS.update({8 + i: "reg32_%02d" % i for i in range(16)})

VERDICTS = {0: "DROP", 1: "ACCEPT", 2: "STOLEN", 3: "QUEUE", 4: "REPEAT", 5: "STOP",
            -1: "CONTINUE", -2: "BREAK", -3: "JUMP", -4: "GOTO", -5: "RETURN"}

META_KEYS = ["len", "protocol", "priority", "mark", "iif", "oif", "iifname", "oifname", "iiftype",
             "oiftype", "skuid", "skgid", "nftrace", "rtclassid", "secmark", "nfproto", "l4proto",
             "bri_iifname", "bri_oifname", "pkttype", "cpu", "iifgroup", "oifgroup", "cgroup",
             "prandom", "secpath", "iifkind", "oifkind", "bri_iifpvid", "bri_iifvproto", "time_ns",
             "time_day", "time_hour", "sdif", "sdifname"]
CMP_OPS = ["eq", "neq", "lt", "lte", "gt", "gte"]
PAYLOAD_BASES = ["link", "network", "transport", "inner"]
BITWISE_OPS = ["bool", "lshift", "rshift"]

# --- attribute schemas -------------------------------------------------------------------------
# Each schema maps attribute type -> (name, kind); kind is a decoder name or a nested schema key.

def be32(b):
    return struct.unpack(">I", b)[0] if len(b) == 4 else None


def sbe32(b):
    return struct.unpack(">i", b)[0] if len(b) == 4 else None


def be64(b):
    return struct.unpack(">Q", b)[0] if len(b) == 8 else None


def cstring(b):
    return b.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")


TABLE = {1: ("NFTA_TABLE_NAME", "str"), 2: ("NFTA_TABLE_FLAGS", "be32"), 3: ("NFTA_TABLE_USE", "be32"),
         4: ("NFTA_TABLE_HANDLE", "be64"), 5: ("NFTA_TABLE_PAD", "hex"), 6: ("NFTA_TABLE_USERDATA", "hex"),
         7: ("NFTA_TABLE_OWNER", "be32")}
CHAIN = {1: ("NFTA_CHAIN_TABLE", "str"), 2: ("NFTA_CHAIN_HANDLE", "be64"), 3: ("NFTA_CHAIN_NAME", "str"),
         4: ("NFTA_CHAIN_HOOK", "HOOK"), 5: ("NFTA_CHAIN_POLICY", "verdict32"), 6: ("NFTA_CHAIN_USE", "be32"),
         7: ("NFTA_CHAIN_TYPE", "str"), 8: ("NFTA_CHAIN_COUNTERS", "COUNTER"), 9: ("NFTA_CHAIN_PAD", "hex"),
         10: ("NFTA_CHAIN_FLAGS", "be32"), 11: ("NFTA_CHAIN_ID", "be32"), 12: ("NFTA_CHAIN_USERDATA", "hex")}
HOOK = {1: ("NFTA_HOOK_HOOKNUM", "hooknum"), 2: ("NFTA_HOOK_PRIORITY", "sbe32"), 3: ("NFTA_HOOK_DEV", "str"),
        4: ("NFTA_HOOK_DEVS", "hex")}
COUNTER = {1: ("NFTA_COUNTER_BYTES", "be64"), 2: ("NFTA_COUNTER_PACKETS", "be64"), 3: ("NFTA_COUNTER_PAD", "hex")}
RULE = {1: ("NFTA_RULE_TABLE", "str"), 2: ("NFTA_RULE_CHAIN", "str"), 3: ("NFTA_RULE_HANDLE", "be64"),
        4: ("NFTA_RULE_EXPRESSIONS", "EXPRLIST"), 5: ("NFTA_RULE_COMPAT", "RULE_COMPAT"),
        6: ("NFTA_RULE_POSITION", "be64"), 7: ("NFTA_RULE_USERDATA", "udata"), 8: ("NFTA_RULE_PAD", "hex"),
        9: ("NFTA_RULE_ID", "be32"), 10: ("NFTA_RULE_POSITION_ID", "be32"), 11: ("NFTA_RULE_CHAIN_ID", "be32")}
RULE_COMPAT = {1: ("NFTA_RULE_COMPAT_PROTO", "be32"), 2: ("NFTA_RULE_COMPAT_FLAGS", "compatflags")}
EXPRLIST = {1: ("NFTA_LIST_ELEM", "EXPR")}
EXPR = {1: ("NFTA_EXPR_NAME", "str"), 2: ("NFTA_EXPR_DATA", "hex")}  # DATA is decoded per NAME
SET = {1: ("NFTA_SET_TABLE", "str"), 2: ("NFTA_SET_NAME", "str"), 3: ("NFTA_SET_FLAGS", "be32"),
       4: ("NFTA_SET_KEY_TYPE", "be32"), 5: ("NFTA_SET_KEY_LEN", "be32"), 6: ("NFTA_SET_DATA_TYPE", "be32"),
       7: ("NFTA_SET_DATA_LEN", "be32"), 8: ("NFTA_SET_POLICY", "be32"), 9: ("NFTA_SET_DESC", "hex"),
       10: ("NFTA_SET_ID", "be32"), 11: ("NFTA_SET_TIMEOUT", "be64"), 12: ("NFTA_SET_GC_INTERVAL", "be32"),
       13: ("NFTA_SET_USERDATA", "hex"), 14: ("NFTA_SET_PAD", "hex"), 15: ("NFTA_SET_OBJ_TYPE", "be32"),
       16: ("NFTA_SET_HANDLE", "be64")}
GEN = {1: ("NFTA_GEN_ID", "be32"), 2: ("NFTA_GEN_PROC_PID", "be32"), 3: ("NFTA_GEN_PROC_NAME", "str")}
BATCH = {1: ("NFNL_BATCH_GENID", "be32")}
COMPAT = {1: ("NFTA_COMPAT_NAME", "str"), 2: ("NFTA_COMPAT_REV", "be32"), 3: ("NFTA_COMPAT_TYPE", "compattype")}
DATA = {1: ("NFTA_DATA_VALUE", "value"), 2: ("NFTA_DATA_VERDICT", "VERDICT")}
VERDICT = {1: ("NFTA_VERDICT_CODE", "verdict32"), 2: ("NFTA_VERDICT_CHAIN", "str"), 3: ("NFTA_VERDICT_CHAIN_ID", "be32")}

EXPR_DATA = {
    "meta": {1: ("NFTA_META_DREG", "reg"), 2: ("NFTA_META_KEY", "metakey"), 3: ("NFTA_META_SREG", "reg")},
    "cmp": {1: ("NFTA_CMP_SREG", "reg"), 2: ("NFTA_CMP_OP", "cmpop"), 3: ("NFTA_CMP_DATA", "DATA")},
    "payload": {1: ("NFTA_PAYLOAD_DREG", "reg"), 2: ("NFTA_PAYLOAD_BASE", "pbase"), 3: ("NFTA_PAYLOAD_OFFSET", "be32"),
                4: ("NFTA_PAYLOAD_LEN", "be32"), 5: ("NFTA_PAYLOAD_SREG", "reg"), 6: ("NFTA_PAYLOAD_CSUM_TYPE", "be32"),
                7: ("NFTA_PAYLOAD_CSUM_OFFSET", "be32"), 8: ("NFTA_PAYLOAD_CSUM_FLAGS", "be32")},
    "bitwise": {1: ("NFTA_BITWISE_SREG", "reg"), 2: ("NFTA_BITWISE_DREG", "reg"), 3: ("NFTA_BITWISE_LEN", "be32"),
                4: ("NFTA_BITWISE_MASK", "DATA"), 5: ("NFTA_BITWISE_XOR", "DATA"), 6: ("NFTA_BITWISE_OP", "bitop"),
                7: ("NFTA_BITWISE_DATA", "DATA")},
    "counter": COUNTER,
    "immediate": {1: ("NFTA_IMMEDIATE_DREG", "reg"), 2: ("NFTA_IMMEDIATE_DATA", "DATA")},
    "match": {1: ("NFTA_MATCH_NAME", "str"), 2: ("NFTA_MATCH_REV", "be32"), 3: ("NFTA_MATCH_INFO", "xtinfo")},
    "target": {1: ("NFTA_TARGET_NAME", "str"), 2: ("NFTA_TARGET_REV", "be32"), 3: ("NFTA_TARGET_INFO", "xtinfo")},
    "lookup": {1: ("NFTA_LOOKUP_SET", "str"), 2: ("NFTA_LOOKUP_SREG", "reg"), 3: ("NFTA_LOOKUP_DREG", "reg"),
               4: ("NFTA_LOOKUP_SET_ID", "be32"), 5: ("NFTA_LOOKUP_FLAGS", "be32")},
    "range": {1: ("NFTA_RANGE_SREG", "reg"), 2: ("NFTA_RANGE_OP", "cmpop"), 3: ("NFTA_RANGE_FROM_DATA", "DATA"),
              4: ("NFTA_RANGE_TO_DATA", "DATA")},
    "nat": {1: ("NFTA_NAT_TYPE", "be32"), 2: ("NFTA_NAT_FAMILY", "family32"), 3: ("NFTA_NAT_REG_ADDR_MIN", "reg"),
            4: ("NFTA_NAT_REG_ADDR_MAX", "reg"), 5: ("NFTA_NAT_REG_PROTO_MIN", "reg"),
            6: ("NFTA_NAT_REG_PROTO_MAX", "reg"), 7: ("NFTA_NAT_FLAGS", "be32")},
    "masq": {1: ("NFTA_MASQ_FLAGS", "be32"), 2: ("NFTA_MASQ_REG_PROTO_MIN", "reg"), 3: ("NFTA_MASQ_REG_PROTO_MAX", "reg")},
    "fib": {1: ("NFTA_FIB_DREG", "reg"), 2: ("NFTA_FIB_RESULT", "be32"), 3: ("NFTA_FIB_FLAGS", "be32")},
}

SCHEMAS = {"TABLE": TABLE, "CHAIN": CHAIN, "HOOK": HOOK, "COUNTER": COUNTER, "RULE": RULE,
           "RULE_COMPAT": RULE_COMPAT, "SET": SET, "EXPRLIST": EXPRLIST, "EXPR": EXPR, "GEN": GEN, "BATCH": BATCH,
           "COMPAT": COMPAT, "DATA": DATA, "VERDICT": VERDICT}

MSG_SCHEMA = {0: "TABLE", 1: "TABLE", 2: "TABLE", 26: "TABLE", 3: "CHAIN", 4: "CHAIN", 5: "CHAIN",
              27: "CHAIN", 9: "SET", 10: "SET", 11: "SET", 29: "SET", 6: "RULE", 7: "RULE", 8: "RULE", 25: "RULE", 28: "RULE", 15: "GEN", 16: "GEN"}

# --- attribute parsing -------------------------------------------------------------------------


def attributes(data):
    """Yields (type without flags, flag bits, payload) for each netlink attribute in data."""
    at = 0
    while at + 4 <= len(data):
        length, kind = struct.unpack_from("<HH", data, at)
        if length < 4 or at + length > len(data):
            yield (None, 0, data[at:])
            return
        yield (kind & 0x3FFF, kind & 0xC000, data[at + 4:at + length])
        at += (length + 3) & ~3


def hexs(b):
    """Hex bytes; a long run of trailing zeros is counted rather than spelled (--raw spells it)."""
    if not b:
        return "(empty)"
    body = b.rstrip(b"\0")
    zeros = len(b) - len(body)
    if len(b) > 32 and zeros > 8:
        return "%s + %d x 00" % (body.hex(" ") if body else "", zeros)
    return b.hex(" ")


def ip_text(b):
    if len(b) == 4:
        return socket.inet_ntop(socket.AF_INET, b)
    if len(b) == 16:
        return socket.inet_ntop(socket.AF_INET6, b)
    return None


def scalar(kind, payload, context):
    """A readable form of a leaf attribute (without the hex, which the caller prints)."""
    if kind == "str":
        text = cstring(payload)
        nul = "" if payload.endswith(b"\0") else " (no NUL)"
        return '"%s"%s' % (text, nul)
    if kind == "be32":
        v = be32(payload)
        return None if v is None else "%d (0x%x)" % (v, v)
    if kind == "sbe32":
        v = sbe32(payload)
        return None if v is None else "%d" % v
    if kind == "be64":
        v = be64(payload)
        return None if v is None else "%d" % v
    if kind == "reg":
        v = be32(payload)
        return None if v is None else "%d = %s" % (v, REGISTERS.get(v, "?"))
    if kind == "metakey":
        v = be32(payload)
        return None if v is None else "%d = %s" % (v, META_KEYS[v] if v < len(META_KEYS) else "?")
    if kind == "cmpop":
        v = be32(payload)
        return None if v is None else "%d = %s" % (v, CMP_OPS[v] if v < len(CMP_OPS) else "?")
    if kind == "bitop":
        v = be32(payload)
        return None if v is None else "%d = %s" % (v, BITWISE_OPS[v] if v < len(BITWISE_OPS) else "?")
    if kind == "pbase":
        v = be32(payload)
        return None if v is None else "%d = %s" % (v, PAYLOAD_BASES[v] if v < len(PAYLOAD_BASES) else "?")
    if kind == "verdict32":
        v = sbe32(payload)
        return None if v is None else "%d = %s" % (v, VERDICTS.get(v, "?"))
    if kind == "hooknum":
        v = be32(payload)
        names = HOOKS.get(context.get("family"), [])
        return None if v is None else "%d = %s" % (v, names[v] if v < len(names) else "?")
    if kind == "family32":
        v = be32(payload)
        return None if v is None else "%d = %s" % (v, FAMILY.get(v, "?"))
    if kind == "compattype":
        v = be32(payload)
        return None if v is None else "%d = %s" % (v, {0: "match", 1: "target"}.get(v, "?"))
    if kind == "compatflags":
        v = be32(payload)
        return None if v is None else "%d%s" % (v, " = NFT_RULE_COMPAT_F_INV" if v & 2 else "")
    if kind == "value":
        return value_text(payload)
    if kind == "udata":
        return udata_text(payload)
    if kind == "xtinfo":
        return xtinfo_text(context.get("xtname"), context.get("xtrev"), context.get("family"), payload)
    return None


def value_text(b):
    forms = []
    if len(b) in (4, 16):
        forms.append("ip " + ip_text(b))
    if len(b) == 2:
        forms.append("be16 %d" % struct.unpack(">H", b)[0])
    if len(b) == 4:
        forms.append("be32 %d, host-order u32 0x%x" % (be32(b), struct.unpack("<I", b)[0]))
    if len(b) == 1:
        forms.append("u8 %d" % b[0])
    if b and all(32 <= c < 127 for c in b.rstrip(b"\0")) and b.rstrip(b"\0"):
        forms.append('text "%s"%s' % (b.rstrip(b"\0").decode(), " + %d NUL" % (len(b) - len(b.rstrip(b"\0"))) if b.endswith(b"\0") else ""))
    return "%d bytes%s" % (len(b), (": " + "; ".join(forms)) if forms else "")


def udata_text(b):
    """libnftnl user data: TLVs of u8 type, u8 length, value (NFTNL_UDATA_RULE_COMMENT = 0)."""
    items, at = [], 0
    names = {0: "COMMENT", 1: "EBTABLES_POLICY"}
    while at + 2 <= len(b):
        kind, length = b[at], b[at + 1]
        value = b[at + 2:at + 2 + length]
        shown = '"%s"' % cstring(value) if kind == 0 else value.hex()
        items.append("%s(%d) len %d %s" % (names.get(kind, "?"), kind, length, shown))
        at += 2 + length
    return "TLVs: " + ", ".join(items)


def xtinfo_text(name, rev, family, b):
    """The x_tables extension structs this project cares about (x86_64 layout)."""
    try:
        if name == "comment":
            return 'xt_comment_info (%d bytes) comment "%s"' % (len(b), cstring(b))
        if name == "multiport" and rev == 1:
            flags, count = b[0], b[1]
            ports = struct.unpack_from("<15H", b, 2)
            pflags = b[32:47]
            invert = b[47]
            return ("xt_multiport_v1 (%d bytes) flags %d (%s) count %d ports %s pflags %s invert %d"
                    % (len(b), flags, {0: "SOURCE", 1: "DESTINATION", 2: "EITHER"}.get(flags, "?"), count,
                       list(ports[:count]), pflags[:count].hex(), invert))
        if name == "addrtype" and rev == 1:
            src, dst, flags = struct.unpack_from("<HHI", b)
            return ("xt_addrtype_info_v1 (%d bytes) source 0x%x dest 0x%x (UNSPEC=0x1 UNICAST=0x2 LOCAL=0x4) flags 0x%x"
                    % (len(b), src, dst, flags))
        if name in ("tcp", "udp") and rev == 0:
            spts = struct.unpack_from("<HH", b, 0)
            dpts = struct.unpack_from("<HH", b, 4)
            return "xt_%s (%d bytes) spts %s dpts %s rest %s" % (name, len(b), list(spts), list(dpts), b[8:].hex())
        if name == "mark" and rev == 1:
            mark, mask, invert = struct.unpack_from("<IIB", b)
            return "xt_mark_mtinfo1 (%d bytes) mark 0x%x mask 0x%x invert %d" % (len(b), mark, mask, invert)
        if name == "MARK" and rev == 2:
            mark, mask = struct.unpack_from("<II", b)
            return "xt_mark_tginfo2 (%d bytes) mark 0x%x mask 0x%x" % (len(b), mark, mask)
        if name in ("DNAT", "SNAT", "MASQUERADE") and family == 2 and rev == 0:
            size, flags, lo, hi = struct.unpack_from("<II4s4s", b)
            pmin, pmax = struct.unpack_from(">HH", b, 16)
            return ("nf_nat_ipv4_multi_range_compat (%d bytes) rangesize %d flags 0x%x min_ip %s max_ip %s "
                    "min_port %d max_port %d" % (len(b), size, flags, ip_text(lo), ip_text(hi), pmin, pmax))
        if name in ("DNAT", "SNAT", "MASQUERADE") and rev in (0, 1, 2) and (family == 10 or rev > 0):
            flags = struct.unpack_from("<I", b)[0]
            lo, hi = b[4:20], b[20:36]
            pmin, pmax = struct.unpack_from(">HH", b, 36)
            text = ("%s (%d bytes) flags 0x%x min_addr %s max_addr %s min_proto %d max_proto %d"
                    % ("nf_nat_range2" if rev == 2 else "nf_nat_range", len(b), flags,
                       ip_text(lo if family == 10 else lo[:4]), ip_text(hi if family == 10 else hi[:4]), pmin, pmax))
            if rev == 2:
                text += " base_proto %d" % struct.unpack_from(">H", b, 40)[0]
            return text
    except (struct.error, IndexError, TypeError, ValueError):
        return None
    return None


# --- printing ----------------------------------------------------------------------------------


def print_attrs(data, schema, depth, context, out):
    pad = "  " * depth
    for kind, flagbits, payload in attributes(data):
        if kind is None:
            out.append("%s(trailing garbage) %s" % (pad, hexs(payload)))
            continue
        name, how = schema.get(kind, ("attr %d" % kind, "hex"))
        flagtext = ("|NESTED" if flagbits & 0x8000 else "") + ("|NET_BYTEORDER" if flagbits & 0x4000 else "")
        head = "%s%s (type %d%s, %d bytes)" % (pad, name, kind, flagtext, len(payload))
        if how == "EXPR":
            print_expr(payload, depth, context, out, head)
        elif how in SCHEMAS:
            out.append(head)
            print_attrs(payload, SCHEMAS[how], depth + 1, context, out)
        else:
            readable = scalar(how, payload, context)
            out.append("%s: %s%s" % (head, hexs(payload), ("  => " + readable) if readable else ""))


def print_expr(payload, depth, context, out, head):
    attrs = list(attributes(payload))
    name = next((cstring(p) for k, _, p in attrs if k == 1), None)
    out.append("%s  [%s]" % (head, name))
    schema = EXPR_DATA.get(name)
    if name in ("match", "target"):
        data = next((p for k, _, p in attrs if k == 2), b"")
        sub = {k: p for k, _, p in attributes(data)}
        context = dict(context, xtname=cstring(sub.get(1, b"")), xtrev=be32(sub.get(2, b"\0\0\0\0")))
    pad = "  " * (depth + 1)
    for kind, flagbits, p in attrs:
        if kind == 1:
            out.append('%sNFTA_EXPR_NAME (type 1, %d bytes): %s  => "%s"' % (pad, len(p), hexs(p), cstring(p)))
        elif kind == 2 and schema is not None:
            out.append("%sNFTA_EXPR_DATA (type 2%s, %d bytes)" % (pad, "|NESTED" if flagbits & 0x8000 else "", len(p)))
            print_attrs(p, schema, depth + 2, context, out)
        else:
            out.append("%sattr %s (%d bytes): %s" % (pad, kind, len(p), hexs(p)))


def flag_names(flags, msg):
    table = list(FLAGS_COMMON)
    if msg is not None:
        name = NFT_MSG[msg] if msg < len(NFT_MSG) else ""
        if name.startswith("GET"):
            table += FLAGS_GET
        elif name.startswith("NEW"):
            table += FLAGS_NEW
        elif name.startswith(("DEL", "DESTROY")):
            table += FLAGS_DEL
    names, rest = [], flags
    for bit, label in table:
        if flags & bit:
            names.append(label)
            rest &= ~bit
    if rest:
        names.append("0x%x" % rest)
    text = "|".join(names) or "0"
    return text + " (=DUMP)" if "ROOT" in names and "MATCH" in names else text


def type_name(kind):
    if kind in NLMSG_CONTROL:
        return NLMSG_CONTROL[kind], None, None
    subsys, msg = kind >> 8, kind & 0xFF
    if subsys == NFNL_SUBSYS_NFTABLES:
        return "NFTABLES<<8 | NFT_MSG_%s(%d)" % (NFT_MSG[msg] if msg < len(NFT_MSG) else "?", msg), subsys, msg
    if subsys == NFNL_SUBSYS_NFT_COMPAT:
        return "NFT_COMPAT<<8 | NFNL_MSG_COMPAT_GET(%d)" % msg if msg == 0 else "NFT_COMPAT<<8 | %d" % msg, subsys, msg
    return "%s<<8 | %d" % (NFNL_SUBSYS.get(subsys, str(subsys)), msg), subsys, msg


def messages(record):
    at = 0
    while at + 16 <= len(record):
        length, kind, flags, seq, pid = struct.unpack_from("<IHHII", record, at)
        if length < 16 or at + length > len(record):
            break
        yield record[at:at + length], kind, flags, seq, pid
        at += (length + 3) & ~3
    if at < len(record):
        yield record[at:], None, 0, 0, 0


def records(blob):
    at = 0
    while at + 4 <= len(blob):
        (length,) = struct.unpack_from("<I", blob, at)
        yield blob[at + 4:at + 4 + length]
        at += 4 + length


# --- summary -----------------------------------------------------------------------------------


def leaf(attrs, kind):
    return next((p for k, _, p in attrs if k == kind), None)


def data_value(payload):
    """The hex of NFTA_DATA_VALUE, or the verdict text, of a nested NFTA_DATA."""
    attrs = list(attributes(payload or b""))
    value = leaf(attrs, 1)
    if value is not None:
        return value.hex()
    verdict = list(attributes(leaf(attrs, 2) or b""))
    code = sbe32(leaf(verdict, 1) or b"")
    chain = leaf(verdict, 2)
    return VERDICTS.get(code, str(code)) + (" " + cstring(chain) if chain is not None else "")


def expr_summary(payload, family):
    attrs = list(attributes(payload))
    name = cstring(leaf(attrs, 1) or b"")
    d = list(attributes(leaf(attrs, 2) or b""))

    def reg(kind):
        v = be32(leaf(d, kind) or b"")
        return REGISTERS.get(v, str(v))

    def num(kind):
        return be32(leaf(d, kind) or b"")

    if name == "meta":
        key = num(2)
        key = META_KEYS[key] if key is not None and key < len(META_KEYS) else key
        return "meta %s -> %s" % (key, reg(1)) if leaf(d, 1) else "meta %s <- %s" % (key, reg(3))
    if name == "cmp":
        op = num(2)
        return "cmp %s %s %s" % (reg(1), CMP_OPS[op] if op is not None and op < 6 else op, data_value(leaf(d, 3)))
    if name == "payload":
        base = num(2)
        return "payload %s+%d len %d -> %s" % (PAYLOAD_BASES[base] if base is not None and base < 4 else base,
                                               num(3), num(4), reg(1))
    if name == "bitwise":
        return "bitwise %s = (%s & %s) ^ %s len %d" % (reg(2), reg(1), data_value(leaf(d, 4)), data_value(leaf(d, 5)), num(3))
    if name == "range":
        op = num(2)
        return "range %s %s %s..%s" % (reg(1), CMP_OPS[op] if op is not None and op < 6 else op,
                                      data_value(leaf(d, 3)), data_value(leaf(d, 4)))
    if name == "lookup":
        return "lookup %s set %s" % (reg(2), cstring(leaf(d, 1) or b""))
    if name == "counter":
        return "counter pkts %s bytes %s" % (be64(leaf(d, 2) or b""), be64(leaf(d, 1) or b""))
    if name == "immediate":
        return "immediate %s <- %s" % (reg(1), data_value(leaf(d, 2)))
    if name in ("match", "target"):
        xname, rev, info = cstring(leaf(d, 1) or b""), num(2), leaf(d, 3) or b""
        readable = xtinfo_text(xname, rev, family, info)
        return "%s %s rev %s info[%d]%s" % (name, xname, rev, len(info), (" {" + readable + "}") if readable else "")
    return "%s %s" % (name, " ".join("%d=%s" % (k, p.hex()) for k, _, p in d))


def summary_line(index, body, kind, flags, seq, family, res_id):
    name, subsys, msg = type_name(kind)
    short = name.split("NFT_MSG_")[-1].split("(")[0] if subsys == NFNL_SUBSYS_NFTABLES else name
    line = "#%d seq %d %s fam %s flags %s" % (index, seq, short, FAMILY.get(family, family), flag_names(flags, msg))
    attrs = list(attributes(body))
    if subsys == NFNL_SUBSYS_NFTABLES and msg in MSG_SCHEMA:
        schema = MSG_SCHEMA[msg]
        parts = []
        if schema == "TABLE":
            if leaf(attrs, 1) is not None:
                parts.append("table %s" % cstring(leaf(attrs, 1)))
            if leaf(attrs, 2) is not None:
                parts.append("flags %d" % be32(leaf(attrs, 2)))
        elif schema == "CHAIN":
            for k, label in ((1, "table"), (3, "chain"), (7, "type")):
                if leaf(attrs, k) is not None:
                    parts.append("%s %s" % (label, cstring(leaf(attrs, k))))
            if leaf(attrs, 2) is not None:
                parts.append("handle %d" % be64(leaf(attrs, 2)))
            hook = leaf(attrs, 4)
            if hook is not None:
                h = list(attributes(hook))
                num = be32(leaf(h, 1) or b"")
                names = HOOKS.get(family, [])
                parts.append("hook %s prio %s" % (names[num] if num is not None and num < len(names) else num,
                                                  sbe32(leaf(h, 2) or b"")))
            if leaf(attrs, 5) is not None:
                parts.append("policy %s" % VERDICTS.get(sbe32(leaf(attrs, 5)), "?"))
        elif schema == "RULE":
            for k, label in ((1, "table"), (2, "chain")):
                if leaf(attrs, k) is not None:
                    parts.append("%s %s" % (label, cstring(leaf(attrs, k))))
            for k, label in ((3, "handle"), (6, "position")):
                if leaf(attrs, k) is not None:
                    parts.append("%s %d" % (label, be64(leaf(attrs, k))))
            compat = leaf(attrs, 5)
            if compat is not None:
                c = list(attributes(compat))
                parts.append("compat proto %s flags %s" % (be32(leaf(c, 1) or b""), be32(leaf(c, 2) or b"")))
            if leaf(attrs, 7) is not None:
                parts.append("udata %s" % leaf(attrs, 7).hex())
            exprs = leaf(attrs, 4)
            if exprs is not None:
                items = [expr_summary(p, family) for k, _, p in attributes(exprs) if k == 1]
                parts.append("\n      " + "\n      ".join(items))
        elif schema == "SET":
            for k, label in ((1, "table"), (2, "set")):
                if leaf(attrs, k) is not None:
                    parts.append("%s %s" % (label, cstring(leaf(attrs, k))))
        elif schema == "GEN" and leaf(attrs, 1) is not None:
            parts.append("genid %d" % be32(leaf(attrs, 1)))
        line += " " + " ".join(parts) if parts else ""
    elif kind in (0x10, 0x11):
        line += " res_id %d%s" % (res_id, (" genid %d" % be32(leaf(attrs, 1))) if leaf(attrs, 1) else "")
    elif subsys == NFNL_SUBSYS_NFT_COMPAT:
        line += ' name "%s" rev %s type %s' % (cstring(leaf(attrs, 1) or b""), be32(leaf(attrs, 2) or b""),
                                               be32(leaf(attrs, 3) or b""))
    return line


# --- main --------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("capture", help="file written by capture_netlink.so (- for stdin)")
    parser.add_argument("--summary", action="store_true", help="one line per message")
    parser.add_argument("--raw", action="store_true", help="also print each message as hex")
    args = parser.parse_args()
    blob = sys.stdin.buffer.read() if args.capture == "-" else open(args.capture, "rb").read()
    index = 0
    for number, record in enumerate(records(blob)):
        if not args.summary:
            print("=== send %d: %d bytes" % (number, len(record)))
        for message, kind, flags, seq, pid in messages(record):
            if kind is None:
                print("  (undecodable tail, %d bytes) %s" % (len(message), hexs(message)))
                continue
            family = version = res_id = None
            body = message[16:]
            if len(body) >= 4 and (kind >= 0x100 or kind in (0x10, 0x11)):
                family, version = body[0], body[1]
                res_id = struct.unpack_from(">H", body, 2)[0]
                body = body[4:]
            if args.summary:
                print(summary_line(index, body, kind, flags, seq, family, res_id))
                if args.raw:
                    print("      raw " + message.hex())
                index += 1
                continue
            name, subsys, msg = type_name(kind)
            print("--- message %d: nlmsg_len %d, type 0x%04x = %s" % (index, len(message), kind, name))
            print("    flags 0x%04x = %s, seq %d, pid %d" % (flags, flag_names(flags, msg), seq, pid))
            if family is not None:
                print("    nfgenmsg: family %d (%s), version %d, res_id %d%s"
                      % (family, FAMILY.get(family, "?"), version, res_id,
                         " (NFNL_SUBSYS_%s)" % NFNL_SUBSYS.get(res_id, "?") if kind in (0x10, 0x11) else ""))
            if args.raw:
                print("    raw: " + message.hex())
            if kind in (0x10, 0x11):
                schema = BATCH
            elif subsys == NFNL_SUBSYS_NFTABLES:
                schema = SCHEMAS.get(MSG_SCHEMA.get(msg), {})
            elif subsys == NFNL_SUBSYS_NFT_COMPAT:
                schema = COMPAT
            else:
                schema = {}
            out = []
            print_attrs(body, schema, 2, {"family": family}, out)
            if out:
                print("\n".join(out))
            index += 1


if __name__ == "__main__":
    main()
