"""``python -m dialogs audio``: make the Vietnamese audio of the spoken prompts (developers only).

Run offline by a developer after changing a text, never by the hotline: it needs Debian's
``espeak-ng`` (voice ``vi``) and ``opus-tools`` (``opusenc``; ``ffmpeg`` with libopus also
works), see ``docs/spoken-prompts.md``. For every text of :func:`dialogs.speech.spoken_ids`
it writes ``locales/vi/audio/<text id>.<hash>.ogg`` unless a file for the current text is
there, and removes the synthesised files of texts that changed or are no longer spoken.
Recordings (``*.rec.ogg``) are never touched. The files are committed; the tests read them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
import wave
from pathlib import Path

from dialogs import speech
from dialogs.i18n import DEFAULT, locales_dir, translator

VOICE = "vi"
WORDS_PER_MINUTE = 145  # a little slower than espeak-ng's 175: clearer for a first listen
BITRATE_KBPS = 12  # Opus at 12 kbit/s is clear for one synthetic voice, ~1.5 kB a second
SAMPLE_RATE = 22050  # espeak-ng's: the pause is encoded like the words around it
PAUSE_SECONDS = 0.6  # between a code's groups of four digits


def speakable(text: str) -> str:
    """The text as it should be read: no emoji or pictograms, bullets as pauses, phone
    numbers digit by digit ("113" is "một một ba", not "một trăm mười ba")."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        cat = unicodedata.category(ch)
        if ch in "•·–—":
            out.append(", ")
        elif cat in ("So", "Sk", "Cs", "Co") or ch in "\ufe0f\u200d":
            out.append(" ")
        else:
            out.append(ch)
    said = "".join(out)
    said = re.sub(r"\d(?:[\d ]*\d)?", _digits, said)
    said = re.sub(r"[ \t]+", " ", said)
    return "\n".join(line.strip(" ,") for line in said.splitlines() if line.strip(" ,"))


def _digits(match: re.Match) -> str:
    run = match.group(0)
    digits = run.replace(" ", "")
    return " ".join(digits) if len(digits) >= 3 else run


def _encoder() -> list[str]:
    if shutil.which("opusenc"):
        return ["opusenc", "--quiet", "--speech", "--bitrate", str(BITRATE_KBPS), "--serial", "1"]
    if shutil.which("ffmpeg"):
        return ["ffmpeg", "-loglevel", "error", "-y", "-i"]
    raise SystemExit("neither opusenc (opus-tools) nor ffmpeg found: see docs/spoken-prompts.md")


def _silence(wav: Path) -> None:
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(b"\0\0" * int(SAMPLE_RATE * PAUSE_SECONDS))


def render(text: str, target: Path) -> None:
    """Speak ``text`` into the Ogg/Opus file ``target`` (no text: a pause of silence)."""
    if text and not shutil.which("espeak-ng"):
        raise SystemExit("espeak-ng not found: apt-get install espeak-ng opus-tools")
    encoder = _encoder()
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "prompt.wav"
        if not text:
            _silence(wav)
        else:
            subprocess.run(
                ["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", str(wav), "--stdin"],
                input=speakable(text).encode("utf-8"),
                check=True,
            )
        if encoder[0] == "opusenc":
            subprocess.run([*encoder, str(wav), str(target)], check=True)
        else:
            bitrate = f"{BITRATE_KBPS}k"
            subprocess.run(
                [*encoder, str(wav), "-ac", "1", "-c:a", "libopus", "-b:a", bitrate, str(target)],
                check=True,
            )


def wanted(lang: str = DEFAULT) -> dict[str, str]:
    """``{file name: text}`` of the audio the current texts need: the spoken prompts, and
    the parts and digits that say a code text (:func:`dialogs.speech.code_clips`)."""
    tr = translator(lang)
    need = {
        f"{msgid}.{speech.text_hash(tr.gettext(msgid))}{speech.SUFFIX}": tr.gettext(msgid)
        for msgid in speech.spoken_ids()
    }
    for clip_id, words in speech.part_ids(lang).items():
        need[f"{clip_id}.{speech.text_hash(words)}{speech.SUFFIX}"] = words
    need[speech.PAUSE + speech.SUFFIX] = ""
    return need


def build(lang: str = DEFAULT, folder: Path | None = None) -> tuple[int, int, int, int]:
    """Make what is missing, remove what is stale: ``(made, kept, removed, total bytes)``."""
    folder = folder or locales_dir() / lang / speech.AUDIO_DIR
    folder.mkdir(parents=True, exist_ok=True)
    need = wanted(lang)
    made = kept = removed = 0
    for name, text in need.items():
        target = folder / name
        if target.exists() and target.stat().st_size:
            kept += 1
            continue
        render(text, target)
        made += 1
    for path in sorted(folder.glob("*" + speech.SUFFIX)):
        if path.name not in need and not path.name.endswith(speech.RECORDED + speech.SUFFIX):
            path.unlink()
            removed += 1
    total = sum(p.stat().st_size for p in folder.glob("*" + speech.SUFFIX))
    speech.clear_cache()
    return made, kept, removed, total


def main(argv: list[str]) -> int:
    made, kept, removed, total = build()
    print(f"audio vi: {made} made, {kept} kept, {removed} removed; {total / 1024:.0f} KiB in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
