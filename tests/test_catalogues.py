"""Every shipped language translates every string the code marks
(blog/catalogues.py): found in the templates, the Python code and static/js
as makemessages finds them, so a string marked today counts, and judged by
GNU gettext's tools; the compiled .mo files committed are their .po's."""

import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from blog import catalogues

SHIPPED = catalogues.shipped_catalogues()


@pytest.fixture(scope="module")
def gaps() -> dict[Path, list[str]]:
    return dict(catalogues.check())


def test_each_language_has_both_catalogues_and_the_five_languages_are_shipped():
    languages = {po.parent.parent.name for po in SHIPPED}
    assert languages >= {"ar", "de", "es", "fr", "zh_Hans"}
    assert sorted(f"{po.parent.parent.name}/{po.name}" for po in SHIPPED) == [
        f"{language}/{domain}.po"
        for language in sorted(languages)
        for domain in ("django", "djangojs")
    ]


@pytest.mark.parametrize(
    "po", SHIPPED, ids=[f"{po.parent.parent.name}-{po.stem}" for po in SHIPPED]
)
def test_every_shipped_catalogue_translates_every_string_the_code_marks(po, gaps):
    found = gaps[po]
    assert not found, (
        f"{po} is incomplete. Run `python manage.py update_catalogues`, "
        "translate what it brings in, then compilemessages:\n\n" + "\n".join(found)
    )


# The check itself, on a small project and catalogues of its own.

HEADER = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: ar\\n"
"Plural-Forms: nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 "
"&& n%100<=10 ? 3 : n%100>=11 && n%100<=99 ? 4 : 5;\\n"
"""


@pytest.fixture
def project(tmp_path) -> Path:
    """A project with one string of each kind, none translated yet."""
    root = tmp_path / "project"
    (root / "templates").mkdir(parents=True)
    (root / "templates" / "page.html").write_text(
        '{% load i18n %}<h1>{% translate "Leave a Reply" %}</h1>\n'
        "<p>{% blocktranslate count counter=n %}{{ counter }} reply"
        "{% plural %}{{ counter }} replies{% endblocktranslate %}</p>\n"
    )
    (root / "app").mkdir()
    (root / "app" / "forms.py").write_text(
        "from django.utils.translation import gettext_lazy as _\n\n"
        'MESSAGE = _("Please write your comment.")\n'
    )
    (root / "static" / "js").mkdir(parents=True)
    (root / "static" / "js" / "reply.js").write_text(
        'button.textContent = gettext("Cancel reply");\n'
    )
    # Not ours: never read.
    (root / "tests").mkdir()
    (root / "tests" / "test_page.py").write_text('_("A test string")\n')
    return root


def catalogue(tmp_path: Path, entries: str, name: str = "django.po") -> Path:
    po = tmp_path / "locale" / "ar" / "LC_MESSAGES" / name
    po.parent.mkdir(parents=True, exist_ok=True)
    po.write_text(HEADER + "\n" + entries)
    return po


def test_strings_marked_in_templates_python_and_scripts_are_found(project, tmp_path):
    work = str(tmp_path)
    django_pot = catalogues.extract("django", work, root=project).read_text()
    assert '#: templates/page.html:1\nmsgid "Leave a Reply"' in django_pot
    assert 'msgid "{counter} reply"' not in django_pot
    assert 'msgid "%(counter)s reply"\nmsgid_plural "%(counter)s replies"' in (
        django_pot
    )
    assert '#: app/forms.py:3\nmsgid "Please write your comment."' in django_pot
    assert "A test string" not in django_pot
    js_pot = catalogues.extract("djangojs", work, root=project).read_text()
    assert '#: static/js/reply.js:1\nmsgid "Cancel reply"' in js_pot
    # Nothing is written into the project (makemessages converts templates
    # beside themselves) or into our catalogues.
    assert sorted(p.name for p in project.rglob("*") if p.is_file()) == [
        "forms.py",
        "page.html",
        "reply.js",
        "test_page.py",
    ]


def test_a_string_marked_today_without_a_translation_is_reported(project, tmp_path):
    pot = catalogues.extract("django", str(tmp_path), root=project)
    po = catalogue(
        tmp_path,
        'msgid "Leave a Reply"\nmsgstr "اترك ردًا"\n\n'
        'msgid "Please write your comment."\nmsgstr "يرجى كتابة تعليقك."\n',
    )
    [problem] = catalogues.problems(po, pot, str(tmp_path))
    assert problem.startswith("no translation:")
    assert '#: templates/page.html:2\n#, python-format\nmsgid "%(counter)s reply"' in (
        problem
    )
    assert "Leave a Reply" not in problem


PLURAL = 'msgid "%(counter)s reply"\nmsgid_plural "%(counter)s replies"\n'
ARABIC_PLURAL = "".join(
    f'msgstr[{i}] "{text}"\n'
    for i, text in enumerate(
        [
            "لا ردود",
            "رد واحد",
            "ردان",
            "%(counter)s ردود",
            "%(counter)s ردًا",
            "%(counter)s رد",
        ]
    )
)
COMPLETE = (
    'msgid "Leave a Reply"\nmsgstr "اترك ردًا"\n\n'
    'msgid "Please write your comment."\nmsgstr "يرجى كتابة تعليقك."\n\n'
    "#, python-format\n" + PLURAL + ARABIC_PLURAL
)


def test_a_complete_catalogue_has_no_problems(project, tmp_path):
    pot = catalogues.extract("django", str(tmp_path), root=project)
    po = catalogue(tmp_path, COMPLETE)
    assert catalogues.problems(po, pot, str(tmp_path)) == []


@pytest.mark.parametrize(
    ("broken", "reported"),
    [
        (
            COMPLETE.replace('msgstr "اترك ردًا"', 'msgstr ""'),
            "no translation:",
        ),
        (
            COMPLETE.replace(
                'msgid "Leave a Reply"', '#, fuzzy\nmsgid "Leave a Reply"'
            ),
            "fuzzy translations",
        ),
        (
            COMPLETE.replace('msgstr[2] "ردان"', 'msgstr[2] ""'),
            "plural forms left empty:\nmsgid '%(counter)s reply'",
        ),
        (
            COMPLETE.replace('msgstr[5] "%(counter)s رد"\n', ""),
            "but some messages have only 5 plural forms",
        ),
        (
            COMPLETE.replace('"%(counter)s ردود"', '"%(count)s ردود"'),
            "msgfmt --check refuses it",
        ),
    ],
    ids=["empty", "fuzzy", "empty-plural-form", "missing-plural-form", "placeholder"],
)
def test_what_a_catalogue_lacks_is_reported(project, tmp_path, broken, reported):
    pot = catalogues.extract("django", str(tmp_path), root=project)
    po = catalogue(tmp_path, broken)
    found = catalogues.problems(po, pot, str(tmp_path))
    assert len(found) == 1 and reported in found[0], found


def test_a_compiled_catalogue_is_stale_when_it_says_other_than_its_po(tmp_path):
    po = catalogue(tmp_path, COMPLETE)
    work = tmp_path / "work"
    work.mkdir()
    assert catalogues.stale_compilation(po, str(work))  # not compiled at all
    subprocess.run(["msgfmt", "-o", str(po.with_suffix(".mo")), str(po)], check=True)
    assert not catalogues.stale_compilation(po, str(work))
    po.write_text(po.read_text().replace("اترك ردًا", "اترك تعليقًا"))
    assert catalogues.stale_compilation(po, str(work))


def test_update_catalogues_check_fails_on_a_gap(monkeypatch, capsys):
    po = SHIPPED[0]
    monkeypatch.setattr(
        catalogues, "check", lambda: iter([(po, ['no translation:\nmsgid "New"'])])
    )
    with pytest.raises(CommandError, match="1 catalogue"):
        call_command("update_catalogues", "--check")
    assert 'msgid "New"' in capsys.readouterr().out
