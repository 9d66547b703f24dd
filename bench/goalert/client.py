"""GoAlert through its own API: sign in as the admin, seed users on services of their own, send
generic-integration alerts.

Each user has an SMS contact method with an immediate notification rule, and a service of its
own whose escalation policy's one step is that user, with a generic integration key. Each alert
of a run goes to a user no other alert of the run pages: GoAlert throttles SMS per contact
method (engine/message/ratelimit.go: 1 a minute, 5 per 15 minutes), and a user paged twice
would measure that throttle rather than the engine.

The contact methods are made usable the way GoAlert's `verifyContactMethod` does it (its
statement `verifyAndEnableContactMethod`: `update user_contact_methods set disabled = false`),
in one statement, instead of one verification SMS each: GoAlert sends at most 1 SMS a second
per instance, so verifying 830 users by SMS would take 14 minutes and then put every contact
method in its 1-a-minute cooldown.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import asyncpg

from bench.goalert.server import ADMIN_PASS, ADMIN_USER, GoAlert

CREATE_USER = "mutation($in: CreateUserInput!) { createUser(input: $in) { id } }"
CREATE_CONTACT_METHOD = (
    "mutation($in: CreateUserContactMethodInput!) { createUserContactMethod(input: $in) { id } }"
)
CREATE_SERVICE = (
    "mutation($in: CreateServiceInput!) { createService(input: $in) { id integrationKeys { id } } }"
)


class GoAlertClient:
    def __init__(self, session: aiohttp.ClientSession, goalert: GoAlert) -> None:
        self.session = session
        self.goalert = goalert
        self.token = ""

    async def sign_in(self) -> None:
        async with self.session.post(
            f"{self.goalert.url}/api/v2/identity/providers/basic",
            data={"username": ADMIN_USER, "password": ADMIN_PASS, "noRedirect": "1"},
            headers={"Referer": self.goalert.url},
        ) as answer:
            text = await answer.text()
            if answer.status != 200:
                raise RuntimeError(f"GoAlert sign-in: {answer.status} {text}")
            self.token = text.strip()

    async def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(
            f"{self.goalert.url}/api/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
        ) as answer:
            body = await answer.json()
        if body.get("errors"):
            raise RuntimeError(f"GoAlert GraphQL: {body['errors']}")
        data: dict[str, Any] = body["data"]
        return data

    async def _user_on_a_service(self, index: int) -> str:
        user = await self.graphql(
            CREATE_USER,
            {
                "in": {
                    "username": f"bench{index}",
                    "password": "bench-user-pass-1",
                    "name": f"Bench User {index}",
                    "role": "user",
                }
            },
        )
        user_id = user["createUser"]["id"]
        await self.graphql(
            CREATE_CONTACT_METHOD,
            {
                "in": {
                    "userID": user_id,
                    "type": "SMS",
                    "value": f"+1913555{index:04d}",
                    "name": "mobile",
                    "newUserNotificationRule": {"delayMinutes": 0},
                }
            },
        )
        service = await self.graphql(
            CREATE_SERVICE,
            {
                "in": {
                    "name": f"Bench Service {index}",
                    "newEscalationPolicy": {
                        "name": f"Bench Policy {index}",
                        "repeat": 0,
                        "steps": [
                            {"delayMinutes": 5, "targets": [{"id": user_id, "type": "user"}]}
                        ],
                    },
                    "newIntegrationKeys": [{"type": "generic", "name": "bench"}],
                }
            },
        )
        key: str = service["createService"]["integrationKeys"][0]["id"]
        return key

    async def seed(self, users: int, concurrency: int = 8) -> list[str]:
        """`users` users, each alone on a service; their services' integration keys."""
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int) -> str:
            async with gate:
                return await self._user_on_a_service(index)

        keys = await asyncio.gather(*(one(i) for i in range(users)))
        connection = await asyncpg.connect(self.goalert.db_url)
        try:
            enabled = await connection.execute(
                "UPDATE user_contact_methods SET disabled = false WHERE disabled"
            )
        finally:
            await connection.close()
        if enabled != f"UPDATE {users}":
            raise RuntimeError(f"GoAlert seed: {enabled}, expected {users} contact methods")
        return list(keys)

    async def alert(self, key: str, summary: str, dedup: str) -> None:
        async with self.session.post(
            f"{self.goalert.url}/api/v2/generic/incoming",
            params={"token": key},
            data={"summary": summary, "dedup": dedup},
        ) as answer:
            await answer.read()
            if answer.status not in (200, 204):
                raise RuntimeError(f"GoAlert alert {summary}: {answer.status}")
