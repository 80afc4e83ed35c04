"""The OData ``$metadata`` document (EDMX) of a form, laid out line for line as
Central renders its template: the root entity, one entity per repeat, one
complex type per group."""

from central_sim.xform import Field, sanitize_odata

_ROOT = "org.opendatakit.user"
_TYPES = {
    "int": "Edm.Int64",
    "decimal": "Edm.Decimal",
    "boolean": "Edm.Boolean",
    "geopoint": "Edm.GeographyPoint",
    "geotrace": "Edm.GeographyLineString",
    "geoshape": "Edm.GeographyPolygon",
    "date": "Edm.Date",
    "dateTime": "Edm.DateTimeOffset",
}
_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="org.opendatakit.submission">
      <ComplexType Name="metadata">
        <Property Name="submissionDate" Type="Edm.DateTimeOffset"/>
        <Property Name="updatedAt" Type="Edm.DateTimeOffset"/>
        <Property Name="deletedAt" Type="Edm.DateTimeOffset"/>
        <Property Name="submitterId" Type="Edm.String"/>
        <Property Name="submitterName" Type="Edm.String"/>
        <Property Name="attachmentsPresent" Type="Edm.Int64"/>
        <Property Name="attachmentsExpected" Type="Edm.Int64"/>
        <Property Name="status" Type="org.opendatakit.submission.Status"/>
        <Property Name="reviewState" Type="org.opendatakit.submission.ReviewState"/>
        <Property Name="deviceId" Type="Edm.String"/>
        <Property Name="edits" Type="Edm.Int64"/>
        <Property Name="formVersion" Type="Edm.String"/>
      </ComplexType>
      <EnumType Name="Status">
        <Member Name="notDecrypted"/>
        <Member Name="missingEncryptedFormData"/>
      </EnumType>
      <EnumType Name="ReviewState">
        <Member Name="hasIssues"/>
        <Member Name="edited"/>
        <Member Name="rejected"/>
        <Member Name="approved"/>
      </EnumType>
    </Schema>
"""  # noqa: E501 - the document's own lines
_ANNOTATIONS_HEAD = """\
          <Annotation Term="Org.OData.Capabilities.V1.ConformanceLevel" EnumMember="Org.OData.Capabilities.V1.ConformanceLevelType/Minimal"/>
          <Annotation Term="Org.OData.Capabilities.V1.BatchSupported" Bool="false"/>
          <Annotation Term="Org.OData.Capabilities.V1.CountRestrictions">
            <Record><PropertyValue Property="Countable" Bool="true"/></Record>
          </Annotation>
          <Annotation Term="Org.OData.Capabilities.V1.FilterFunctions">
            <Record>
              <PropertyValue Property="NonCountableProperties">
                <Collection>
                  <String>eq</String>
                </Collection>
              </PropertyValue>
            </Record>
          </Annotation>
          <Annotation Term="Org.OData.Capabilities.V1.FilterFunctions">
            <Record>
              <PropertyValue Property="Filterable" Bool="true"/>
              <PropertyValue Property="RequiresFilter" Bool="false"/>
              <PropertyValue Property="NonFilterableProperties">
                <Collection>
"""  # noqa: E501 - the document's own lines
_ANNOTATIONS_TAIL = """\
                </Collection>
              </PropertyValue>
            </Record>
          </Annotation>
          <Annotation Term="Org.OData.Capabilities.V1.SortRestrictions">
            <Record><PropertyValue Property="Sortable" Bool="false"/></Record>
          </Annotation>
          <Annotation Term="Org.OData.Capabilities.V1.ExpandRestrictions">
            <Record><PropertyValue Property="Expandable" Bool="false"/></Record>
          </Annotation>
"""


def _escape(text: str) -> str:
    """Mustache's HTML escaping of ``{{value}}``."""
    table = {
        "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
        "/": "&#x2F;", "`": "&#x60;", "=": "&#x3D;",
    }  # fmt: skip
    return "".join(table.get(c, c) for c in text)


def _parts(path: str) -> list[str]:
    return [sanitize_odata(p) for p in path[1:].split("/")]


def _collect(fields: list[Field], base: str):
    """Entity types and complex types, as Central's depth-first walk builds them."""
    submissions = {"name": "Submissions", "primary": True, "path": None, "props": []}
    entities, complexes, stack = [submissions], [], [submissions]
    for field in fields:
        out = stack[-1]
        while out["path"] is not None and not field.path.startswith(out["path"] + "/"):
            stack.pop()
            out = stack[-1]
        name = sanitize_odata(field.name)
        type_name = ".".join(_parts(field.path))
        if field.type == "structure":
            complex_type = {"name": type_name, "path": field.path, "props": []}
            complexes.append(complex_type)
            stack.append(complex_type)
            out["props"].append((name, f"{base}.{type_name}", False))
        elif field.type == "repeat":
            context = next((o for o in reversed(stack) if o.get("repeat")), None)
            id_parts = ["Submissions"] + (_parts(context["path"]) if context else [])
            entity = {
                "name": f"Submissions.{type_name}",
                "path": field.path,
                "repeat": True,
                "props": [(f"__{'-'.join(id_parts)}-id", "Edm.String", False)],
            }
            entities.append(entity)
            stack.append(entity)
            full_type = f"{base}.Submissions.{type_name}"
            out["props"].append((name, f"Collection({full_type})", True))
        else:
            out["props"].append((name, _TYPES.get(field.type, "Edm.String"), False))
    return entities, complexes


def _properties(props) -> str:
    lines = []
    for name, kind, navigation in props:
        tag = "NavigationProperty" if navigation else "Property"
        lines.append(
            f'        <{tag} Name="{_escape(name)}" Type="{_escape(kind)}"/>\n'
        )
    return "".join(lines)


def edmx(xml_form_id: str, fields: list[Field]) -> str:
    base = f"{_ROOT}.{sanitize_odata(xml_form_id)}"
    entities, complexes = _collect(fields, base)
    out = [_HEAD]
    out.append(
        '    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" '
        f'Namespace="{_escape(base)}">\n'
    )
    for entity in entities:
        out.append(f'      <EntityType Name="{_escape(entity["name"])}">\n')
        out.append('        <Key><PropertyRef Name="__id"/></Key>\n')
        out.append('        <Property Name="__id" Type="Edm.String"/>\n')
        if entity.get("primary"):
            out.append(
                '        <Property Name="__system" '
                'Type="org.opendatakit.submission.metadata"/>\n'
            )
        out.append(_properties(entity["props"]))
        out.append("      </EntityType>\n")
    for complex_type in complexes:
        out.append(f'      <ComplexType Name="{_escape(complex_type["name"])}">\n')
        out.append(_properties(complex_type["props"]))
        out.append("      </ComplexType>\n")
    out.append(f'      <EntityContainer Name="{_escape(xml_form_id)}">\n')
    for entity in entities:
        name = _escape(entity["name"])
        out.append(
            f'        <EntitySet Name="{name}" EntityType="{_escape(base)}.{name}">\n'
        )
        if entity.get("primary"):
            out.append(_ANNOTATIONS_HEAD)
            for prop in entity["props"]:
                path = _escape(prop[0])
                out.append(f"{' ' * 18}<PropertyPath>{path}</PropertyPath>\n")
            out.append(_ANNOTATIONS_TAIL)
        out.append("        </EntitySet>\n")
    out.append("      </EntityContainer>\n    </Schema>\n  </edmx:DataServices>\n")
    out.append("</edmx:Edmx>")
    return "".join(out)
