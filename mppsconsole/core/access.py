"""Who may associate with the console's SCP, from where, and use which service.

Pure policy, no sockets: ``net`` asks :meth:`AccessPolicy.admit` when an
association is requested and :meth:`AccessPolicy.permits` for every request,
and turns the answers into an A-ASSOCIATE-RJ or a refusal status.

The default (no rules) is open: any calling AE from any host may use every
service. The console is a test and demo tool that must work out of the box
with modalities nobody has configured yet; the called AE title must still
match, and the README's "Security" section says how to lock it down.
"""

from __future__ import annotations

import dataclasses
import ipaddress

#: Services an access rule can grant, in the order the settings and the GUI show them.
SERVICES = ("verification", "worklist", "mpps", "storage", "commitment")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_hosts(values: tuple[str, ...] | list[str]) -> tuple[Network, ...]:
    """Addresses or networks (``10.0.0.7``, ``10.0.0.0/24``); ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP address or network: {value!r}") from None
    return tuple(networks)


@dataclasses.dataclass(frozen=True)
class AccessRule:
    """One calling AE title, optionally bound to hosts, granted some services.

    Empty ``hosts`` means any host; empty ``services`` means every service
    (so an entry that only names an AE title keeps its old meaning of
    ``allowed_calling_aets``).
    """

    ae_title: str
    hosts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [s for s in self.services if s not in SERVICES]
        if unknown:
            raise ValueError(f"unknown service {unknown[0]!r} (one of {', '.join(SERVICES)})")
        parse_hosts(self.hosts)

    def matches_host(self, address: str) -> bool:
        if not self.hosts:
            return True
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d
        return any(ip in network for network in parse_hosts(self.hosts))

    def grants(self, service: str) -> bool:
        return not self.services or service in self.services


@dataclasses.dataclass(frozen=True)
class Decision:
    """The answer to an association request: admitted, or refused with a reason to log."""

    admitted: bool
    reason: str = ""
    rule: AccessRule | None = None


class AccessPolicy:
    """The allow-list. AE titles compare without trailing spaces, case-sensitively (PS3.8)."""

    def __init__(self, rules: tuple[AccessRule, ...] | list[AccessRule] = ()) -> None:
        self.rules = tuple(rules)

    @property
    def is_open(self) -> bool:
        return not self.rules

    def _rules_for(self, calling_ae: str) -> list[AccessRule]:
        name = calling_ae.strip()
        return [rule for rule in self.rules if rule.ae_title.strip() == name]

    def admit(self, calling_ae: str, address: str) -> Decision:
        """May ``calling_ae`` connecting from ``address`` associate at all?"""
        if self.is_open:
            return Decision(True)
        name = calling_ae.strip()
        candidates = self._rules_for(name)
        if not candidates:
            return Decision(False, f"calling AE title {name!r} is not in the access list")
        for rule in candidates:
            if rule.matches_host(address):
                return Decision(True, rule=rule)
        hosts = ", ".join(h for rule in candidates for h in rule.hosts)
        return Decision(
            False, f"calling AE title {name!r} is not allowed from {address} (only {hosts})"
        )

    def permits(self, calling_ae: str, address: str, service: str) -> bool:
        """May an admitted peer use ``service``? (Any matching rule that grants it will do.)"""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}")
        if self.is_open:
            return True
        return any(
            rule.matches_host(address) and rule.grants(service)
            for rule in self._rules_for(calling_ae)
        )


def refusal_comment(calling_ae: str, service: str) -> str:
    """The Error Comment (LO, at most 64 characters) a refused request carries."""
    return f"{calling_ae.strip()} is not authorized for {service}"[:64]
