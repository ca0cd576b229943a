"""The teleconsultation report PDF, read back as a person (or the practice software) would: the
text of each page, extracted with pypdf."""

from __future__ import annotations

import dataclasses
import io
import re

import pypdf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.report.model import ReportData, ReportDocument, ReportPatient, ReportVital
from agent.report.pdf import render

PATIENT = ReportPatient(
    display_name="DUPONT Marie", birth_name="DUPONT", used_name="MARTIN", first_names=["Marie", "Françoise"],
    birth_date="02/03/1935", sex="Féminin", ins=None,
)
VITALS = [
    ReportVital(label="Saturation en oxygène (SpO2)", value="96", unit="%", measured_at="25/11/2026 à 13:58"),
    ReportVital(label="Pression artérielle", value="142/81", unit="mmHg", measured_at="25/11/2026 à 13:59"),
    ReportVital(label="Température", value="37,2", unit="°C", measured_at="25/11/2026 à 13:55"),
]
DOCUMENTS = [
    ReportDocument(name="photo_talon_gauche.jpg", kind="Photo", added_by="Claire LEROY (IDE)", added_at="25/11/2026 à 14:03"),
    ReportDocument(name="ordonnance_pansements.pdf", kind="Ordonnance", added_by="Dr Jean DURAND", added_at="25/11/2026 à 14:25"),
]
TYPICAL = ReportData(
    establishment="EHPAD Les Tilleuls", dossier_number="TD-2026-000123", generated_at="25/11/2026 à 14:05",
    patient=PATIENT, slot="Mardi 25 novembre 2026, 14:00 – 14:30",
    requester="Claire LEROY, infirmière diplômée d'État", specialist="Dr Jean DURAND, dermatologue — RPPS 10001234567",
    accompaniment="Patiente accompagnée par l'infirmière.",
    consent="Consentement recueilli oralement auprès de la patiente par Claire LEROY le 24/11/2026 à 10:12.",
    reason="Plaie du talon gauche ne cicatrisant pas depuis 3 semaines.",
    history="HTA traitée.\nDiabète de type 2.",
    observations="Escarre stade 2 du talon gauche, 2 × 3 cm.",
    vitals=VITALS,
    expert_opinion="Hydrogel puis pansement hydrocellulaire tous les 2 jours.\nDécharge du talon.",
    signed_by=None, signed_at=None, documents=DOCUMENTS,
)
SIGNED = dataclasses.replace(TYPICAL, signed_by="Dr Jean DURAND", signed_at="25/11/2026 à 14:31")
LONG_HISTORY = "\n\n".join(
    f"Épisode {i} : hospitalisation pour insuffisance cardiaque décompensée, traitement adapté par le cardiologue, "
    f"œdèmes des membres inférieurs régressifs, retour en EHPAD après {i % 9 + 2} jours." for i in range(1, 61)
)


def pages(pdf: bytes) -> list[str]:
    """The text of each page, non-breaking spaces read as spaces."""
    return [page.extract_text().replace("\u00a0", " ") for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def text(pdf: bytes) -> str:
    return "\n".join(pages(pdf))


def test_a_typical_report_has_its_sections_in_order_on_two_pages_at_most() -> None:
    pdf = render(TYPICAL)
    assert pdf.startswith(b"%PDF-")
    printed = pages(pdf)
    assert len(printed) <= 2
    whole = "\n".join(printed)
    titles = ["Identité du patient", "Téléconsultation", "Motif", "Antécédents", "Observations cliniques",
              "Constantes", "Avis de l'expert", "Signature", "Documents joints"]
    positions = [whole.index("\n" + title + "\n") for title in titles]
    assert positions == sorted(positions)
    for value in ["Mardi 25 novembre 2026, 14:00 – 14:30", "Claire LEROY, infirmière diplômée d'État",
                  "Dr Jean DURAND, dermatologue — RPPS 10001234567", "Patiente accompagnée par l'infirmière.",
                  "Plaie du talon gauche ne cicatrisant pas depuis 3 semaines.", "Escarre stade 2 du talon gauche, 2 × 3 cm.",
                  "Marie Françoise", "MARTIN", "photo_talon_gauche.jpg", "Ordonnance", "Dr Jean DURAND"]:
        assert value in whole


def test_a_long_report_identifies_the_patient_and_counts_pages_on_every_page() -> None:
    printed = pages(render(dataclasses.replace(TYPICAL, history=LONG_HISTORY)))
    total = len(printed)
    assert total >= 3
    for number, page in enumerate(printed, start=1):
        assert "DUPONT Marie" in page and "née le 02/03/1935" in page, f"page {number}"
        assert f"Télédossier n° TD-2026-000123 — page {number}/{total}" in page
        assert "EHPAD Les Tilleuls" in page and "Compte rendu de téléconsultation" in page


def test_long_free_text_flows_over_pages_in_full_and_in_order() -> None:
    whole = text(render(dataclasses.replace(TYPICAL, history=LONG_HISTORY)))
    found = [int(n) for n in re.findall(r"Épisode (\d+) :", whole)]
    assert found == list(range(1, 61))
    assert whole.index("Épisode 60 :") < whole.index("Observations cliniques")


def test_the_experts_opinion_keeps_its_line_breaks() -> None:
    whole = text(render(dataclasses.replace(TYPICAL, expert_opinion="Ligne un.\nLigne deux.\n\nParagraphe deux.")))
    opinion = whole[whole.index("Avis de l'expert"):whole.index("Signature")]
    assert opinion.splitlines()[1:4] == ["Ligne un.", "Ligne deux.", "Paragraphe deux."]


def test_vitals_print_with_their_units() -> None:
    whole = text(render(TYPICAL))
    for row in ["Saturation en oxygène (SpO2)", "96 %", "142/81 mmHg", "37,2 °C", "25/11/2026 à 13:59"]:
        assert row in whole
    assert "Aucune constante relevée" not in whole


def test_no_vitals_and_no_documents_say_so() -> None:
    whole = text(render(dataclasses.replace(TYPICAL, vitals=[], documents=[])))
    assert "Aucune constante relevée" in whole and "Aucun document joint" in whole


def test_markup_characters_in_user_text_print_literally() -> None:
    patient = dataclasses.replace(PATIENT, display_name="<b>O'BRIEN & FILS</b>", birth_name="<b>")
    pdf = render(dataclasses.replace(
        TYPICAL, patient=patient, reason="a < b && c > d <br/> &amp; &lt;i&gt; <font size=40>x</font>",
        documents=[ReportDocument(name="<script>.pdf", kind="&nbsp;", added_by="A & B", added_at="<1>")],
    ))
    whole = text(pdf)
    assert "a < b && c > d <br/> &amp; &lt;i&gt; <font size=40>x</font>" in whole
    assert "<b>O'BRIEN & FILS</b>" in whole
    assert all("<b>O'BRIEN & FILS</b>" in page for page in pages(pdf))
    for cell in ["<script>.pdf", "&nbsp;", "A & B", "<1>"]:
        assert cell in whole


def test_an_unsigned_report_says_so_in_a_banner_and_on_every_page() -> None:
    printed = pages(render(dataclasses.replace(TYPICAL, history=LONG_HISTORY)))
    assert all("PROVISOIRE" in page for page in printed)
    whole = "\n".join(printed)
    assert whole.count("Non signé — document provisoire") == 2  # under the title, and as the signature
    assert "Signé par" not in whole


def test_a_signed_report_names_the_signer_and_is_not_provisional() -> None:
    whole = text(render(SIGNED))
    assert "Signé par\nDr Jean DURAND" in whole and "Signé le\n25/11/2026 à 14:31" in whole
    assert "PROVISOIRE" not in whole and "provisoire" not in whole


def test_a_signature_without_its_date_stays_provisional() -> None:
    whole = text(render(dataclasses.replace(TYPICAL, signed_by="Dr Jean DURAND", signed_at=None)))
    assert "PROVISOIRE" in whole and "Non signé — document provisoire" in whole and "Signé par" not in whole


def test_the_ins_is_printed_only_when_given() -> None:
    assert "INS" not in text(render(TYPICAL))
    whole = text(render(dataclasses.replace(TYPICAL, patient=dataclasses.replace(PATIENT, ins="235037511223344"))))
    assert "INS (NIR)\n2 35 03 75 112 233 44" in whole


def test_the_used_name_row_appears_only_when_there_is_one() -> None:
    assert "Nom utilisé\nMARTIN" in text(render(TYPICAL))
    assert "Nom utilisé" not in text(render(dataclasses.replace(TYPICAL, patient=dataclasses.replace(PATIENT, used_name=None))))


def test_french_characters_survive_extraction() -> None:
    phrase = "Œdème léger, à revoir ; ça s'améliore. Très « encourageant » — cœur régulier, 5 € ’"
    patient = dataclasses.replace(PATIENT, display_name="LEFÈVRE Françoise-Hélène", first_names=["Françoise-Hélène"])
    pdf = render(dataclasses.replace(TYPICAL, patient=patient, expert_opinion=phrase))
    whole = text(pdf)
    assert phrase in whole
    assert all("LEFÈVRE Françoise-Hélène" in page for page in pages(pdf))


def test_characters_helvetica_lacks_are_printed_as_their_nearest_reading() -> None:
    opinion = "SpO₂ 94 %, leucocytes 12·10⁹/L, Gergő, Łukasz, cafe\u0301, zéro\u200blargeur, tab\tulation, fin\r\nligne ﬁn"
    whole = text(render(dataclasses.replace(TYPICAL, expert_opinion=opinion)))
    assert "SpO2 94 %, leucocytes 12·10^9/L, Gergo, Lukasz, café, zérolargeur, tab ulation, fin\nligne fin" in whole


def test_empty_text_fields_print_non_renseigne() -> None:
    empty = dataclasses.replace(TYPICAL, slot="", requester=" ", specialist="", accompaniment="", consent="\n",
                                reason="", history="", observations="  \n ", expert_opinion="")
    assert text(render(empty)).count("Non renseigné") == 9


def test_metadata_has_a_title_and_no_patient_data() -> None:
    patient = dataclasses.replace(PATIENT, ins="235037511223344")
    reader = pypdf.PdfReader(io.BytesIO(render(dataclasses.replace(SIGNED, patient=patient))))
    meta = reader.metadata
    assert (meta.title, meta.author, meta.subject, meta.creator) == (
        "Compte rendu de téléconsultation", "EHPAD Les Tilleuls", "Télédossier n° TD-2026-000123", "Telecart")
    assert meta["/CreationDate"] == "D:20261125140500"
    assert reader.trailer["/Root"]["/Lang"] == "fr-FR"
    every_value = " ".join(str(v) for v in meta.values())
    for private in ["DUPONT", "Marie", "MARTIN", "1935", "235037511223344", "Plaie", "DURAND"]:
        assert private not in every_value


def test_the_same_data_gives_the_same_bytes() -> None:
    assert render(TYPICAL) == render(TYPICAL)


def test_huge_table_cells_split_over_pages_instead_of_failing() -> None:
    huge = "très long " * 1500
    pdf = render(dataclasses.replace(
        TYPICAL, consent=huge, vitals=[ReportVital(label=huge, value="1" * 3000, unit="%", measured_at="")],
        documents=[ReportDocument(name="x" * 10000, kind="", added_by="", added_at="")],
        patient=dataclasses.replace(PATIENT, display_name="DUPONT " * 60 + "Marie"),
    ))
    printed = pages(pdf)
    assert len(printed) > 5
    assert all("02/03/1935" in page for page in printed)


def test_absurdly_long_header_values_are_cut_in_the_header_only() -> None:
    name = "DUPONT-" * 3000 + "Marie"
    printed = pages(render(dataclasses.replace(
        TYPICAL, establishment="EHPAD " * 5000, patient=dataclasses.replace(PATIENT, display_name=name))))
    assert all("DUPONT-DUPONT" in page and "…" in page and "page" in page for page in printed)
    assert len(printed) <= 3  # the header did not eat the pages


_FREE_TEXT = st.text(max_size=400)  # anything: control characters, lone surrogates, emoji, markup…


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reason=_FREE_TEXT, history=_FREE_TEXT, observations=_FREE_TEXT, opinion=_FREE_TEXT, name=_FREE_TEXT,
       cell=_FREE_TEXT, dossier=_FREE_TEXT)
def test_any_text_renders_a_pdf(reason: str, history: str, observations: str, opinion: str, name: str, cell: str,
                                dossier: str) -> None:
    pdf = render(dataclasses.replace(
        TYPICAL, reason=reason, history=history, observations=observations, expert_opinion=opinion,
        dossier_number=dossier, generated_at=cell, patient=dataclasses.replace(PATIENT, display_name=name, used_name=cell),
        vitals=[ReportVital(label=cell, value=cell, unit=cell, measured_at=cell)],
        documents=[ReportDocument(name=cell, kind=cell, added_by=cell, added_at=cell)],
    ))
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
