"""How request handlers reach the running agent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from agent.app import Agent

AGENT: web.AppKey[Agent] = web.AppKey("agent")


def agent_of(request: web.Request) -> Agent:
    return request.app[AGENT]
