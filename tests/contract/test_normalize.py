"""The normalizer hides what differs between servers and nothing else."""

import io
import json
import zipfile

from tests.contract.normalize import Normalizer, edmx_outline

BASE = "http://127.0.0.1:8383"


def test_json__named_actor_id__becomes_label_that_keeps_its_type():
    norm = Normalizer(BASE)
    norm.name("actor", 5, "admin")

    body = norm.json({"actorId": 5, "__system": {"submitterId": "5"}})

    assert body == {
        "actorId": "<admin:int>",
        "__system": {"submitterId": "<admin:str>"},
    }


def test_json__unnamed_ids__numbered_in_order_and_equal_ids_stay_equal():
    norm = Normalizer(BASE)

    body = norm.json(
        [{"submissionId": 40, "acteeId": "f1"}, {"submissionId": 41, "acteeId": "f1"}]
    )

    assert body == [
        {"submissionId": "<submission#1:int>", "acteeId": "<actee#1:str>"},
        {"submissionId": "<submission#2:int>", "acteeId": "<actee#1:str>"},
    ]


def test_json__timestamps_and_address__replaced_while_keys_order_and_nulls_stay():
    norm = Normalizer(BASE)
    body = {
        "updatedAt": None,
        "createdAt": "2026-12-03T18:12:12.256Z",
        "@odata.context": f"{BASE}/v1/projects/12/forms/f.svc/$metadata",
        "visit_date": "2026-11-01",
        "age": 7,
    }

    normalized = norm.json(body)

    assert list(normalized) == list(body)
    assert normalized == {
        "updatedAt": None,
        "createdAt": "<time#1>",
        "@odata.context": "<base>/v1/projects/<project>/forms/f.svc/$metadata",
        "visit_date": "2026-11-01",
        "age": 7,
    }


def test_json__timestamps__equal_ones_share_a_label_and_others_get_the_next():
    norm = Normalizer(BASE)
    first, later = "2026-12-03T18:12:12.256Z", "2026-12-03T18:12:13.001Z"

    body = norm.json(
        [
            {"submissionDate": first, "updatedAt": None},
            {"submissionDate": first, "updatedAt": later},
        ]
    )
    path = norm.text(f"/Submissions?$filter=__system/submissionDate gt {later}")

    assert body == [
        {"submissionDate": "<time#1>", "updatedAt": None},
        {"submissionDate": "<time#1>", "updatedAt": "<updated#1>"},
    ]
    assert path == "/Submissions?$filter=__system/submissionDate gt <time#2>"


def test_json__separately_read_clocks__labelled_on_their_own_counters():
    norm = Normalizer(BASE)
    moment = "2026-12-03T18:12:12.256Z"

    body = norm.json({"updatedAt": moment, "publishedAt": moment, "loggedAt": moment})

    assert body == {
        "updatedAt": "<updated#1>",
        "publishedAt": "<time#1>",
        "loggedAt": "<logged#1>",
    }


def test_json__top_level_id__named_by_the_kind_the_caller_gives():
    norm = Normalizer(BASE)
    norm.name("project", 1, "project")
    norm.name("actor", 1, "admin")

    project = norm.json({"id": 1, "name": "P"}, id_kind="project")
    user = norm.json({"id": 1, "type": "user"})

    assert project["id"] == "<project:int>"
    assert user["id"] == "<admin:int>"


def test_json__conflict_problem__internal_form_id_hidden_in_values_and_message():
    norm = Normalizer(BASE)
    problem = {
        "message": "A resource already exists with formId,instanceId,draft "
        "value(s) of 17,uuid:a,f.",
        "code": 409.3,
        "details": {
            "fields": ["formId", "instanceId", "draft"],
            "values": ["17", "uuid:a", "f"],
            "table": "submissions",
        },
    }

    normalized = norm.json(problem)

    assert normalized["details"]["values"] == ["<form#1:str>", "uuid:a", "f"]
    assert normalized["message"].endswith("value(s) of <form#1:str>,uuid:a,f.")


def test_text__secret_token__replaced_everywhere():
    norm = Normalizer(BASE)
    norm.secret("ab$c!d", "app_user_token")

    text = norm.text(f"<downloadUrl>{BASE}/v1/key/ab$c!d/projects/3/x</downloadUrl>")

    assert text == (
        "<downloadUrl><base>/v1/key/<app_user_token>/projects/<project>/x</downloadUrl>"
    )


def test_zip_files__csv_rows_normalized_and_submitter_column_labelled():
    norm = Normalizer(BASE)
    norm.name("actor", 9, "app_user")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "f.csv", "SubmissionDate,age,SubmitterID\n2026-12-03T18:12:12.256Z,7,9\n"
        )

    files = norm.zip_files(buffer.getvalue())

    assert files == {
        "f.csv": [
            ["SubmissionDate", "age", "SubmitterID"],
            ["<time#1>", "7", "<app_user:str>"],
        ]
    }


def test_edmx_outline__keeps_types_properties_and_sets_in_order():
    edmx = """<?xml version="1.0" encoding="UTF-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="n">
      <EntityType Name="Submissions">
        <Key><PropertyRef Name="__id"/></Key>
        <Property Name="__id" Type="Edm.String"/>
        <Property Name="age" Type="Edm.Int64"/>
      </EntityType>
      <EntityContainer Name="c">
        <EntitySet Name="Submissions" EntityType="n.Submissions"/>
      </EntityContainer>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>"""

    outline = edmx_outline(edmx)

    assert json.loads(json.dumps(outline)) == {
        "version": "4.0",
        "types": [
            {
                "kind": "EntityType",
                "name": "Submissions",
                "key": ["__id"],
                "properties": [
                    ["Property", "__id", "Edm.String"],
                    ["Property", "age", "Edm.Int64"],
                ],
            }
        ],
        "sets": [{"name": "Submissions", "type": "n.Submissions"}],
    }
