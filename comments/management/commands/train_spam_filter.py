"""`manage.py train_spam_filter [--reset]`: the spam filter learns every
stored decision again (comments/spamfilter.py)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from comments import spamfilter


class Command(BaseCommand):
    help = _(
        "Teach the spam filter every stored decision: what moderators last "
        "approved or marked as spam, and the approved and spam comments "
        "imported from WordPress. Decisions it has learnt already count once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help=_("Forget everything the filter has learnt first, then learn again."),
        )

    def handle(self, *, reset: bool, **options) -> None:
        changed = spamfilter.retrain(reset=reset)
        spam, ham = spamfilter.trained_counts()
        self.stdout.write(
            _(
                "%(changed)d comment(s) learnt anew. The filter now knows "
                "%(spam)d spam and %(ham)d ham comment(s)."
            )
            % {"changed": changed, "spam": spam, "ham": ham}
        )
