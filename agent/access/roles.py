"""Roles and what each may do. Least privilege: a technician fixes the cart without reading
health data; an admin manages accounts and reads the audit trail."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    NURSE = "nurse"
    DOCTOR = "doctor"
    TECHNICIAN = "technician"
    ADMIN = "admin"


class Permission(StrEnum):
    HEALTH_READ = "health.read"
    HEALTH_WRITE = "health.write"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    DEVICES_MANAGE = "devices.manage"
    DIRECTORY_MANAGE = "directory.manage"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.NURSE: frozenset({Permission.HEALTH_READ, Permission.HEALTH_WRITE}),
    Role.DOCTOR: frozenset({Permission.HEALTH_READ, Permission.HEALTH_WRITE}),
    Role.TECHNICIAN: frozenset({Permission.DEVICES_MANAGE}),
    Role.ADMIN: frozenset({Permission.AUDIT_READ, Permission.USERS_MANAGE, Permission.DIRECTORY_MANAGE}),
}

LABELS_FR: dict[Role, str] = {
    Role.NURSE: "Infirmier·ère",
    Role.DOCTOR: "Médecin",
    Role.TECHNICIAN: "Technicien·ne",
    Role.ADMIN: "Administrateur·rice",
}
