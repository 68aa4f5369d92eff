"""Program versions and the purpose notices they published."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from loyalty.dbtypes import id_column, utc_column


class ProgramVersion(SQLModel, table=True):
    """One published program. Never changed; a rollback publishes an older source again."""

    __tablename__ = "program_versions"

    id: int | None = Field(default=None, sa_column=id_column())
    number: int = Field(sa_column=Column(Integer, nullable=False, unique=True, index=True))
    # JSON list of [filename, text]; digest = sha256 of that JSON, so a cache can trust it.
    source: str = Field(sa_column=Column(Text, nullable=False))
    digest: str = Field(sa_column=Column(String(64), nullable=False))
    notice_versions: str = Field(sa_column=Column(Text, nullable=False))  # JSON {purpose: version}
    published_at: datetime = Field(sa_column=utc_column())
    published_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    rolled_back_to: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class PurposeNotice(SQLModel, table=True):
    """The text of a purpose as members read it; a new text is a new notice version."""

    __tablename__ = "purpose_notices"
    __table_args__ = (
        UniqueConstraint("purpose", "version", name="uq_purpose_notices_version"),
        UniqueConstraint("purpose", "digest", name="uq_purpose_notices_digest"),
    )

    id: int | None = Field(default=None, sa_column=id_column())
    purpose: str = Field(sa_column=Column(String(64), nullable=False))
    version: str = Field(sa_column=Column(String(32), nullable=False))
    digest: str = Field(sa_column=Column(String(64), nullable=False))
    title: str = Field(sa_column=Column(String(200), nullable=False))
    text: str = Field(sa_column=Column(Text, nullable=False))
    basis: str = Field(sa_column=Column(String(32), nullable=False))
    dpv: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    first_published_in: int = Field(sa_column=Column(Integer, nullable=False))
    first_published_at: datetime = Field(sa_column=utc_column())
