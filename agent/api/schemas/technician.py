"""The technician's page on the EHPAD's network: its first-boot account, its diagnostics. No field
here ever holds a resident's data."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from agent.api.schemas.common import Schema, Strict


class TechnicianStateOut(Schema):
    provisioning: bool = Field(description="No technician account yet: the first-boot code shown on the cart's screen opens the page")
    cart_name: str
    version: str
    fingerprint: str = Field(description="SHA-256 of the HTTPS certificate, as the cart's screen shows it (AB:CD:…)")


class FirstAccountIn(Strict):
    code: str = Field(min_length=4, max_length=16, description="The first-boot code shown on the cart's screen")
    login: str = Field(min_length=2, max_length=40)
    display_name: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=256)


class FirstAccountOut(Schema):
    login: str
    otpauth_uri: str = Field(description="To scan into an authenticator app: the one-time codes of the login")
    secret: str = Field(description="The same secret, to type when the code cannot be scanned")
    qr_data_uri: str = Field(description="The otpauth URI as a QR code (an SVG data: URI for an <img>)")


class SyncItemOut(Schema):
    id: int
    at: str
    label: str
    operation_label: str
    state_label: str
    dossier: str | None = Field(description="The first characters of the dossier's id: never a resident's name")
    attempts: int
    last_error: str | None


class SyncStateOut(Schema):
    server: str
    authentication: str
    counts: dict[str, int]
    pending: int
    oldest: str | None
    error: str | None
    next_try_at: str | None
    problems: list[SyncItemOut] = Field(description="Conflicts and refusals: a person must look at them")
    waiting: list[SyncItemOut]


class DiagnosticsOut(Schema):
    system: dict[str, Any] = Field(description="Processor, memory, disk, temperatures, battery, addresses, the agent (agent/technician/diagnostics.py)")
    sync: SyncStateOut
    call: dict[str, Any] = Field(description="The last call's statistics (bitrate, frames, losses, round trip), or empty")


class EnrolmentOut(Schema):
    fhir_base_url: str
    identifier_base: str
    auth: str
    client_id: str
    jwks: dict[str, Any] | None = Field(description="The cart's public key set to register at the region (SMART Backend Services), when made")


class TechnicianAccessOut(Schema):
    provisioning: bool
    code: str | None = Field(description="The first-boot code, on the cart's own screen only, while the cart has no technician account")
    urls: list[str] = Field(description="Where the technician's page is on the EHPAD's network")
    fingerprint: str
    cart_name: str


class NetworkDeviceOut(Schema):
    path: str = Field(description="NetworkManager's object path of the interface")
    interface: str
    kind: str = Field(description="filaire | Wi-Fi | 4G (modem)")
    wifi: bool
    modem: bool
    state: str = Field(description="The interface's state in French")
    connected: bool
    connection: str | None = Field(description="The network it is on (the connection's name)")
    addresses: list[str]
    signal: int | None = Field(description="Wi-Fi signal strength, %")


class NetworkOut(Schema):
    state: str = Field(description="Connectivity in French: Internet, portail captif, limitée, aucune")
    networking: bool
    devices: list[NetworkDeviceOut]


class WifiNetworkOut(Schema):
    ssid: str
    strength: int
    secured: bool


class WifiNetworksOut(Schema):
    networks: list[WifiNetworkOut]


class WifiQuery(Strict):
    device: str = Field(min_length=1, max_length=200)


class WifiJoinIn(Strict):
    device: str = Field(min_length=1, max_length=200)
    ssid: str = Field(min_length=1, max_length=32)
    password: str = Field("", max_length=63, description="WPA passphrase (8 to 63 characters); empty for an open network")


class MobileJoinIn(Strict):
    device: str = Field(min_length=1, max_length=200)
    apn: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9.\-]+$", description="The operator's access point name, e.g. orange.fr")


class StaffAccountOut(Schema):
    login: str
    display_name: str
    role_label: str
    disabled: bool
    created_at: str


class StaffAccountsOut(Schema):
    accounts: list[StaffAccountOut]
    has_admin: bool = Field(description="An enabled administrator exists; until then the technician may create the first one")


class FirstAdminIn(Strict):
    login: str = Field(min_length=2, max_length=40)
    display_name: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=256)


class UpdateEntryOut(Schema):
    at: str
    version: str
    outcome: str = Field(description="installée | à l'essai | annulée | refusée | échouée")
    detail: str = Field(description="In French: what happened, e.g. the automatic return to the previous version")


class UpdatesOut(Schema):
    agent_version: str = Field(description="The version of the agent answering")
    running: str | None = Field(description="The version the update state names as in service")
    trial: str | None = Field(description="A version being tried now")
    history: list[UpdateEntryOut]


class UpdateQueuedOut(Schema):
    version: str = Field(description="The bundle's version, signature checked: the system installs it on trial in the next seconds")
