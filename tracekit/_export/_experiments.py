"""Which MLflow experiment the spans go to: by id, by name (created if missing), or "0".

Creating by name is safe when several processes race: the loser's create answers
``RESOURCE_ALREADY_EXISTS`` and it reads the winner's id.
"""

from __future__ import annotations

from urllib.parse import quote

from tracekit._export._delivery import DestinationError
from tracekit._export._http import HttpClient, HttpResult, TransportError
from tracekit._export._retry import Verdict, classify

__all__ = ["DEFAULT_EXPERIMENT_ID", "resolve_experiment"]

DEFAULT_EXPERIMENT_ID = "0"


def _call(client: HttpClient, method: str, url: str, **kwargs: object) -> HttpResult:
    try:
        return client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except TransportError as exc:
        raise DestinationError(Verdict.RETRY, f"cannot reach the MLflow server: {exc}") from None


def _fail(result: HttpResult, what: str) -> DestinationError:
    verdict = classify(result.status)
    if verdict is Verdict.AUTH:
        return DestinationError(Verdict.AUTH, f"{what}: the server refused the credentials ({result.reason()})")
    if verdict is Verdict.RETRY:
        return DestinationError(Verdict.RETRY, f"{what}: {result.reason()}")
    return DestinationError(Verdict.REJECT, f"{what}: {result.reason()}")


def error_code(result: HttpResult) -> str:
    """MLflow's ``error_code`` of a JSON error answer (``RESOURCE_DOES_NOT_EXIST`` ...), or ``""``."""
    try:
        payload = result.json()
    except ValueError:
        return ""
    return str(payload.get("error_code", "")) if isinstance(payload, dict) else ""


def _check_active(experiment: object, what: str) -> str:
    if not isinstance(experiment, dict) or "experiment_id" not in experiment:
        raise DestinationError(Verdict.RETRY, f"{what}: unexpected answer {experiment!r:.200}")
    if experiment.get("lifecycle_stage") == "deleted":
        raise DestinationError(
            Verdict.REJECT, f"{what}: experiment {experiment.get('experiment_id')} is deleted; restore it or pick another"
        )
    return str(experiment["experiment_id"])


def get_by_name(client: HttpClient, uri: str, name: str) -> str | None:
    """The id of the experiment called ``name``, or None when there is none."""
    result = _call(client, "GET", f"{uri}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": name})
    if result.status == 404 or error_code(result) == "RESOURCE_DOES_NOT_EXIST":
        return None
    if result.status != 200:
        raise _fail(result, f"looking up experiment {name!r}")
    return _check_active(result.json().get("experiment"), f"experiment {name!r}")


def resolve_experiment(client: HttpClient, uri: str, name: str | None, experiment_id: str | None) -> str:
    """The numeric experiment id to send to; raises :class:`DestinationError`.

    An explicit id is checked to exist (the server itself accepts spans for an
    unknown id and files them under an experiment nobody can see -- measured on
    mlflow 3.17.2). A name is looked up and created if missing.
    """
    if experiment_id:
        result = _call(client, "GET", f"{uri}/api/2.0/mlflow/experiments/get", params={"experiment_id": experiment_id})
        if result.status == 200:
            return _check_active(result.json().get("experiment"), f"experiment id {experiment_id}")
        if result.status == 404 or error_code(result) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise DestinationError(
                Verdict.REJECT,
                f"MLflow experiment id {experiment_id} does not exist on {uri} (MLFLOW_EXPERIMENT_ID / experiment_id)",
            )
        raise _fail(result, f"checking experiment id {experiment_id}")
    if not name:
        return DEFAULT_EXPERIMENT_ID
    found = get_by_name(client, uri, name)
    if found is not None:
        return found
    result = _call(client, "POST", f"{uri}/api/2.0/mlflow/experiments/create", json_body={"name": name})
    if result.status == 200:
        return str(result.json()["experiment_id"])
    if error_code(result) == "RESOURCE_ALREADY_EXISTS":
        found = get_by_name(client, uri, name)  # another process won the race
        if found is not None:
            return found
    raise _fail(result, f"creating experiment {quote(name)!r}")
