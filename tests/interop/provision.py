"""Provisions users and a group into a running scim2-server through
scim2-client, as an identity provider would, then writes what
`GET /Users` and `GET /Groups` answer, byte for byte, for steward to import.

Usage: provision.py BASE_URL USERS.json GROUPS.json
"""

import sys

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Email, EnterpriseUser, Group, GroupMember, Manager, Name, User


def main() -> int:
    base, users_path, groups_path = sys.argv[1:4]
    http = httpx2.Client(base_url=base, timeout=10)
    client = SyncSCIMClient(http)
    # Reads the server's schemas and resource types, so that requests and
    # answers are checked against what it announces.
    client.discover()
    UserModel = User[EnterpriseUser]

    def user(name, display, email, active, number, department, manager=None):
        u = UserModel(
            user_name=name,
            external_id=f"ext-{name}",
            display_name=display,
            name=Name(given_name=display.split()[0], family_name=display.split()[-1]),
            emails=[
                Email(value=f"{name}@home.example.com", type="home"),
                Email(value=email, type="work", primary=True),
            ],
            active=active,
        )
        u[EnterpriseUser] = EnterpriseUser(
            employee_number=number,
            department=department,
            cost_center="4130",
            organization="Example Corp",
            division="Operations",
            manager=Manager(value=manager) if manager else None,
        )
        return client.create(u)

    ada = user("ada", "Ada Lovelace", "ada@example.com", True, "1001", "Engineering")
    bob = user("bob", "Bob Marley", "bob@example.com", True, "1002", "Sales", manager=ada.id)
    user("cyd", "Cyd Charisse", "cyd@example.com", False, "1003", "Sales", manager=ada.id)
    client.create(
        Group(
            display_name="finance-admins",
            members=[GroupMember(value=ada.id, type="User"), GroupMember(value=bob.id, type="User")],
        )
    )
    client.create(Group(display_name="everyone", members=[GroupMember(value=bob.id, type="User")]))

    # What the service provider answers, checked by scim2-client, then kept
    # as it was sent: the import reads the server's own JSON, not a copy
    # rebuilt from the models.
    for target, path in ((UserModel, users_path), (Group, groups_path)):
        listed = client.query(target)
        assert listed.total_results >= 2, listed
        answer = http.get(f"/{'Users' if target is UserModel else 'Groups'}")
        answer.raise_for_status()
        with open(path, "w", encoding="utf-8") as f:
            f.write(answer.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
