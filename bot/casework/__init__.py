"""Casework: every operation on a case, from every channel, through one service.

======================  =====================================================================
``service``             :class:`CaseworkService`: perform(actor, typed op), the one authorization
``operations``          what each typed operation (:mod:`dialogs.casework_ops`) does
``invites``             invites, web sign-in codes and sessions, who an account is
``referral``            a new case referred to its focal point; its card sent
``cards``               the referral card, rebuilt from the stored case
``relay``               messages both ways under the case reference; news for the survivor
``tasks``               reminders: follow-up tasks, reporting deadlines
``escalation_notices``  the escalation worker's notifier
``retention``           warnings before deletion; deletion
``plumbing``            the shared fields; audit, outbox, the acting web session, the mode
``common``              constants and keys
======================  =====================================================================

The focal point's chat conversation (what a button means, what to ask next) is pure:
:mod:`dialogs.focal_conversation`.
"""

from bot.casework.common import INVITE_TTL, WEB_CODE_TTL
from bot.casework.invites import InviteTried
from bot.casework.service import Actor, CaseworkService, Outcome

__all__ = ["INVITE_TTL", "WEB_CODE_TTL", "Actor", "CaseworkService", "InviteTried", "Outcome"]
