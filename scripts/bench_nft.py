"""The nftables side of scripts/bench.py (python3 standard library only): our plugin's table as the
preload writes it, and a node's nftables ruleset read back for comparisons.

The preload is rendered exactly as NFTablesPlanner.script does (Sources/PortmapCore/Plan/
NFTablesPlanner.swift): the table skeleton every container shares, then one `add element` line per
element, each pod's in the planner's order. Keep both in step when the layout changes.
"""

import collections
import copy
import ipaddress
import json
import subprocess

TABLE = "cni_portmaps"
HOSTIP_DNAT, HOSTPORT_DNAT, MASQ_PAIRS = "hostip_dnat", "hostport_dnat", "masq_pairs"


def skeleton(v6):
    ip, address = ("ip6", "ipv6_addr") if v6 else ("ip", "ipv4_addr")
    lines = [
        "table %s %s {" % (ip, TABLE),
        "\tmap %s {" % HOSTIP_DNAT,
        "\t\ttype %s . inet_proto . inet_service : %s . inet_service" % (address, address),
        "\t\tflags timeout",
        "\t}",
        "\tmap %s {" % HOSTPORT_DNAT,
        "\t\ttype inet_proto . inet_service : %s . inet_service" % address,
        "\t\tflags timeout",
        "\t}",
        "\tset %s {" % MASQ_PAIRS,
        "\t\ttype %s . %s" % (address, address),
        "\t\tflags interval,timeout",
        "\t}",
        "\tchain hostports {",
        "\t\tdnat %s to %s daddr . meta l4proto . th dport map @%s" % (ip, ip, HOSTIP_DNAT),
        "\t\tdnat %s to meta l4proto . th dport map @%s" % (ip, HOSTPORT_DNAT),
        "\t}",
        "\tchain prerouting {",
        "\t\ttype nat hook prerouting priority dstnat; policy accept;",
        "\t\tfib daddr type local jump hostports",
        "\t}",
        "\tchain output {",
        "\t\ttype nat hook output priority -100; policy accept;",
        "\t\tfib daddr type local jump hostports",
        "\t}",
        "\tchain postrouting {",
        "\t\ttype nat hook postrouting priority srcnat; policy accept;",
        "\t\tct status dnat %s saddr . %s daddr @%s masquerade" % (ip, ip, MASQ_PAIRS),
        "\t}",
    ]
    if not v6:
        lines += [
            "\tchain localnet_guard {",
            "\t\ttype filter hook prerouting priority raw; policy accept;",
            '\t\tiifname != "lo" ip daddr 127.0.0.0/8 drop',
            "\t}",
        ]
    return lines + ["}"]


def pod_elements(owner, interface, mappings):
    """[(set, element text)] that NFTablesPlanner.plan gives one container with snat on (the
    default) and masqAll off: `interface` is its address with prefix ("10.88.0.2/24"), `mappings`
    the runtimeConfig portMappings. The text is NFTablesPlanner.text(of:): `key comment "owner" :
    value`, which is also how element_text reads an element back."""
    interface = ipaddress.ip_interface(interface)
    v6 = interface.version == 6
    pod = str(interface.ip)
    comment = 'comment "%s"' % owner
    elements = []
    for m in mappings:
        host_ip = m.get("hostIP")
        if host_ip and (ipaddress.ip_address(host_ip).version == 6) != v6:
            continue
        value = "%s . %d" % (pod, m["containerPort"])
        if host_ip and not ipaddress.ip_address(host_ip).is_unspecified:
            elements.append((HOSTIP_DNAT, "%s . %s . %d %s : %s" % (host_ip, m["protocol"], m["hostPort"], comment, value)))
        else:
            elements.append((HOSTPORT_DNAT, "%s . %d %s : %s" % (m["protocol"], m["hostPort"], comment, value)))
    if elements:
        sources = [str(interface.network)] + ([] if v6 else ["127.0.0.1"])
        elements += [(MASQ_PAIRS, "%s . %s %s" % (source, pod, comment)) for source in sources]
    return elements


def script(elements, v6):
    """The `nft -f` script of one family's table holding `elements` ([(set, text)], in order)."""
    table = "%s %s" % ("ip6" if v6 else "ip", TABLE)
    lines = skeleton(v6) + ["add element %s %s { %s }" % (table, name, text) for name, text in elements]
    return "\n".join(lines) + "\n"


def set_id(name, v6):
    return "%s %s %s" % ("ip6" if v6 else "ip", TABLE, name)


# ---------------------------------------------------------------------------------------------
# The ruleset read back

def expr_text(expr):
    if isinstance(expr, dict):
        if "concat" in expr:
            return " . ".join(expr_text(part) for part in expr["concat"])
        if "prefix" in expr:
            return "%s/%d" % (expr["prefix"]["addr"], expr["prefix"]["len"])
        return json.dumps(expr, sort_keys=True)
    return str(expr)


def element_text(item, is_map):
    """One element of `nft -j` in pod_elements' text form; anything else an element carries
    (timeout, counter, ...) is appended, so that it shows up in a comparison."""
    key, value = item if is_map else (item, None)
    extra = {}
    if isinstance(key, dict) and "elem" in key:
        extra = dict(key["elem"])
        key = extra.pop("val")
    text = expr_text(key)
    comment = extra.pop("comment", None)
    if comment is not None:
        text += ' comment "%s"' % comment
    if value is not None:
        text += " : " + expr_text(value)
    for name in sorted(extra):
        text += " %s %s" % (name, json.dumps(extra[name], sort_keys=True))
    return text


def expiring(item, is_map):
    """Whether an element of `nft -j` carries an expiration."""
    key = item[0] if is_map else item
    return isinstance(key, dict) and "expires" in key.get("elem", {})


def snapshot(env):
    """The current namespace's whole ruleset (`nft -j list ruleset`): "objects", every table, chain,
    rule and set declaration in listing order as canonical JSON without handles, and "elements",
    each set's elements in element_text form, sorted (a hash set lists them in bucket order,
    which may change when the table is resized). An element with an expiration (what our DEL
    leaves: it stops matching within a tick, the set's garbage collection frees it later) counts
    as gone, as it does for the plugin's CHECK, GC and hostports."""
    listing = subprocess.run(["nft", "-j", "list", "ruleset"], check=True, capture_output=True, text=True, env=env).stdout
    objects, elements = [], {}
    for item in json.loads(listing)["nftables"]:
        (kind, body), = item.items()
        if kind == "metainfo":
            continue
        body = {k: v for k, v in body.items() if k != "handle"}
        if kind in ("set", "map"):
            elements["%s %s %s" % (body["family"], body["table"], body["name"])] = sorted(
                element_text(e, kind == "map") for e in body.pop("elem", []) if not expiring(e, kind == "map"))
        objects.append(json.dumps({kind: body}, sort_keys=True))
    return {"objects": objects, "elements": elements}


def with_elements(state, elements, v6):
    """`state` plus `elements` ([(set, text)]) in the family's table of our plugin."""
    state = copy.deepcopy(state)
    for name, text in elements:
        state["elements"].setdefault(set_id(name, v6), []).append(text)
    for texts in state["elements"].values():
        texts.sort()
    return state


def without_table_elements(state):
    """`state` with the sets of our tables (both families) emptied."""
    state = copy.deepcopy(state)
    for name in state["elements"]:
        if name.split(" ")[1] == TABLE:
            state["elements"][name] = []
    return state


def element_count(state, v6):
    """The elements in our table of one family."""
    prefix = set_id("", v6)
    return sum(len(texts) for name, texts in state["elements"].items() if name.startswith(prefix))


def describe_diff(a, b, a_name, b_name, limit=6):
    """A short description of how two snapshots differ ('' when they are equal)."""
    out = []
    if a["objects"] != b["objects"]:
        ca, cb = collections.Counter(a["objects"]), collections.Counter(b["objects"])
        only_a, only_b = list((ca - cb).elements()), list((cb - ca).elements())
        if not only_a and not only_b:
            out.append("same tables, chains and rules in another order")
        out += ["only in %s: %s" % (a_name, shorten(x)) for x in only_a[:2]]
        out += ["only in %s: %s" % (b_name, shorten(x)) for x in only_b[:2]]
        if len(only_a) + len(only_b) > 4:
            out.append("%d objects only in %s, %d only in %s" % (len(only_a), a_name, len(only_b), b_name))
    for name in sorted(set(a["elements"]) | set(b["elements"])):
        ea, eb = a["elements"].get(name), b["elements"].get(name)
        if ea == eb or ea is None or eb is None:
            continue  # a set only on one side is among the objects
        ca, cb = collections.Counter(ea), collections.Counter(eb)
        only_a, only_b = list((ca - cb).elements()), list((cb - ca).elements())
        out += ["only in %s: element %s { %s }" % (a_name, name, e) for e in only_a[:2]]
        out += ["only in %s: element %s { %s }" % (b_name, name, e) for e in only_b[:2]]
        if len(only_a) + len(only_b) > 4:
            out.append("set %s: %d elements only in %s, %d only in %s" % (name, len(only_a), a_name, len(only_b), b_name))
        if len(out) >= limit:
            break
    if len(out) > limit:
        out = out[:limit] + ["..."]
    return "; ".join(out)


def shorten(text, limit=200):
    return text if len(text) <= limit else text[:limit] + "..."
