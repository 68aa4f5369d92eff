"""What the profiling API accepts and returns."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class PurposeExplained(BaseModel):
    purpose: str
    title: str
    text: str


class QuestionPublic(BaseModel):
    field: str
    label: str
    type: str
    options: list[str]
    question: str
    purposes: list[PurposeExplained]


class ProfileAnswer(BaseModel):
    value: Any
    consent: list[str] = Field(default_factory=list, description="Purposes the member ticked")


class Decline(BaseModel):
    field: str


class ProfileValuePublic(BaseModel):
    field: str
    label: str
    type: str
    value: Any
    purposes: list[str]
    shared_at: datetime
    updated_at: datetime


class AnswerPublic(BaseModel):
    value: ProfileValuePublic
    points: int
