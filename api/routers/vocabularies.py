"""Controlled vocabularies with labels in the caller's language."""

from fastapi import APIRouter

from api.deps import LanguageDep, ReaderDep
from api.responses import JSONOut
from api.schemas.system import Vocabularies
from api.vocab import available_languages, vocabulary_listing

router = APIRouter(prefix="/vocabularies", tags=["vocabularies"])


@router.get("", response_model=Vocabularies, response_class=JSONOut)
def list_vocabularies(language: LanguageDep, principal: ReaderDep):
    """Every code list with labels (``lang`` or Accept-Language picks the language)."""
    return JSONOut(
        {
            "language": language,
            "languages": available_languages(),
            "vocabularies": vocabulary_listing(language),
        }
    )
