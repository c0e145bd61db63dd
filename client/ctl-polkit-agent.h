/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A text polkit agent for the duration of one privileged call, the way
 * systemd's clients do it (src/shared/polkit-agent.c): when a person sits
 * at the terminal, pkttyagent asks for the password there; otherwise no
 * agent, and polkit answers without asking. */

#include <stdbool.h>

/* Starts pkttyagent and returns once it has registered with polkit, so the
 * call that follows finds it. Does nothing (returns 0) when ask_password is
 * false, when running as root (vfiohostd does not ask polkit about root),
 * when stdin is no terminal, when pkttyagent is not installed, or when an
 * agent of ours runs already. Returns 1 when it started one, < 0 only when
 * the fork itself failed; no agent is never fatal, since a desktop session
 * may have one of its own. */
int ctl_polkit_agent_open(bool ask_password);

/* Stops the agent started by ctl_polkit_agent_open() (SIGTERM) and reaps it. */
void ctl_polkit_agent_close(void);
