"""The HTTP service (FastAPI): datasets of the shared tier for other agencies' systems, open data for anyone.

    GET /datasets                       what the caller may read (open data; with a key, its grants too)
    GET /datasets/{id}                  a dataset's metadata and columns
    GET /datasets/{id}/rows             a page of rows: filters on columns, sort, limit/offset, format
    GET /receipts                       the caller's department's receipts and rejection reports (its outbox)
    GET /receipts/{source}/{file}       one of them (xlsx or CSV)
    GET /health                         for the service manager
    GET /openapi.json, /docs            the OpenAPI description

Every request, refused ones included, is one line of the access ledger (service/ledger.py).
"""

import io
import json
import logging
import time
from datetime import date, datetime
from datetime import time as dt_time
from decimal import Decimal
from typing import Annotated
from urllib.parse import quote

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from fastapi import FastAPI, HTTPException, Query, Request, Security
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from departments.paths import DepartmentPaths
from service.datasets import Dataset, OpenData, SharedFile
from service.grants import Consumer, Consumers, Grant
from service.keys import KeyStore
from service.ledger import Ledger, redacted
from service.limits import RateLimiter
from service.queries import RESERVED, QueryError, QueryTimeout, build_page, run, visible_columns
from service.receipts import MEDIA as RECEIPT_MEDIA
from service.receipts import find, listed
from service.settings import Settings

log = logging.getLogger(__name__)
API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False, description="Khóa API của tài khoản kết nối")
BEARER = HTTPBearer(auto_error=False, description="Khóa API của tài khoản kết nối, dạng `Bearer tnk_…`")
MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}
ROWS_DESCRIPTION = """Lọc theo cột của tập dữ liệu: `COT=GIA_TRI` hoặc `COT__OP=GIA_TRI` với OP là eq, ne, gt, gte,
lt, lte, in (các giá trị cách nhau bởi dấu phẩy), ví dụ `?agency_code=000.00.20.H56&month__gte=2026-10-01`.
Filters on the dataset's columns; values are typed by the column (dates YYYY-MM-DD, '.' decimals)."""


class Service:
    """What the requests share: the datasets, the consumers and keys, the ledger and the rate limiter."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.shared = SharedFile(settings.shared_file)
        self.open_data = OpenData(settings.open_data)
        self.consumers = Consumers(settings.consumers)
        self.keys = KeyStore(settings.keys)
        self.ledger = Ledger(settings.ledger)
        self.limiter = RateLimiter(settings.rate_per_second, settings.burst)


def _refuse(request: Request, status: int, message: str, headers: dict | None = None) -> HTTPException:
    request.state.entry["error"] = message
    return HTTPException(status, detail=message, headers=headers)


def _caller(
    request: Request,
    api_key: Annotated[str | None, Security(API_KEY)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
) -> Consumer | None:
    """The consumer of the presented key (None: no key, the public); 401 on a key that is not valid, 429 over the
    caller's rate."""
    service: Service = request.app.state.service
    presented = api_key or (bearer.credentials if bearer else None)
    consumer = None
    if presented is not None:
        found = service.keys.consumer_of(presented.strip())
        consumer = service.consumers.get(found[0]) if found else None
        if consumer is None:
            raise _refuse(
                request, 401, "Khóa API không hợp lệ hoặc đã bị thu hồi", {"WWW-Authenticate": 'Bearer realm="tn"'}
            )
        request.state.entry.update(consumer=consumer.id, agency=consumer.agency, key_id=found[1])
    who = consumer.id if consumer else f"public:{request.client.host if request.client else '-'}"
    wait = service.limiter.allow(who, consumer.rate_per_second if consumer else None)
    if wait:
        raise _refuse(request, 429, "Vượt quá số yêu cầu cho phép mỗi giây", {"Retry-After": f"{max(1, round(wait))}"})
    return consumer


Caller = Annotated[Consumer | None, Security(_caller)]


def _key_required(request: Request, message: str) -> HTTPException:
    return _refuse(request, 401, message, {"WWW-Authenticate": 'Bearer realm="tn"'})


def _readable(request: Request, dataset_id: str, shared: dict[str, Dataset], consumer: Consumer | None):
    """(dataset, grant) the caller may read; 401 without a key, 403 without a grant, 404 for no such dataset."""
    request.state.entry["dataset"] = redacted(dataset_id[:120])
    open_datasets = request.app.state.service.open_data.datasets()
    if dataset_id in open_datasets:
        return open_datasets[dataset_id], None
    if consumer is None:
        raise _key_required(request, "Cần khóa API (X-API-Key hoặc Authorization: Bearer) cho tập dữ liệu này")
    if dataset_id not in shared:
        raise _refuse(request, 404, "Không có tập dữ liệu này")
    grant = consumer.grant_for(dataset_id)
    if grant is None:
        raise _refuse(request, 403, f"Tài khoản {consumer.id} chưa được cấp quyền đọc tập dữ liệu này")
    return shared[dataset_id], grant


def _department(request: Request, consumer: Consumer | None) -> Consumer:
    """Receipts belong to a department: 401 without a key."""
    if consumer is None:
        raise _key_required(request, "Cần khóa API của đơn vị để nhận biên nhận và báo cáo dòng bị từ chối")
    return consumer


def _parameters(request: Request) -> dict:
    """The request's parameters for the ledger, as sent (a repeated one as a list), personal numbers redacted."""
    sent: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        sent.setdefault(redacted(name[:60]), []).append(redacted(value[:200]))
    sent = {name: values[0] if len(values) == 1 else values for name, values in sent.items()}
    return {"filters": {k: v for k, v in sent.items() if k not in RESERVED}, **{k: sent.get(k) for k in RESERVED}}


def _described(dataset: Dataset, grant: Grant | None) -> dict:
    described = dataset.describe()
    visible = set(visible_columns(dataset, grant))
    described["columns"] = [c for c in described["columns"] if c["name"] in visible]
    if grant and grant.rows:
        described["row_filter"] = {c: list(v) for c, v in grant.rows.items()}
    return described


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    app = FastAPI(
        title="Dịch vụ chia sẻ dữ liệu - Kho dữ liệu dùng chung tỉnh Thái Nguyên",
        description="Datasets of the Thái Nguyên shared data warehouse for other agencies' systems (accounts, grants, "
        "access ledger) and the public's open data.",
        version="1",
    )
    app.state.service = service = Service(settings)

    @app.middleware("http")
    async def ledger(request: Request, call_next):
        started = time.perf_counter()
        request.state.entry = entry = {}
        try:
            response = await call_next(request)
        except Exception:
            log.exception("request failed")  # the traceback stays in the service's log, the client gets none
            response = JSONResponse({"detail": "Lỗi nội bộ của dịch vụ"}, status_code=500)
        service.ledger.append(
            {
                "consumer": entry.get("consumer"),
                "agency": entry.get("agency"),
                "key_id": entry.get("key_id"),
                "client": request.client.host if request.client else None,
                "method": request.method,
                "path": redacted(request.url.path[:300]),
                "dataset": entry.get("dataset"),
                **_parameters(request),
                "rows": entry.get("rows"),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "error": redacted(entry["error"]) if entry.get("error") else None,
                "pseudonyms": entry.get("pseudonyms"),
            }
        )
        return response

    @app.get("/health")
    def health() -> dict:
        open_data = bool(service.open_data.datasets())
        return {"status": "ok", "shared_file": settings.shared_file.exists(), "open_data": open_data}

    @app.get("/datasets")
    def list_datasets(request: Request, consumer: Caller) -> dict:
        """Open datasets, and with a key the shared datasets granted to its consumer."""
        listed = [d.describe() for d in service.open_data.datasets().values()]
        if consumer is not None:
            with service.shared.reading() as (shared, _):
                for dataset in shared.values():
                    grant = consumer.grant_for(dataset.id)
                    if grant is not None:
                        listed.append(_described(dataset, grant))
        request.state.entry["rows"] = len(listed)
        return {"datasets": listed}

    @app.get("/datasets/{dataset_id}")
    def get_dataset(request: Request, dataset_id: str, consumer: Caller) -> dict:
        with service.shared.reading() as (shared, _):
            dataset, grant = _readable(request, dataset_id, shared, consumer)
            return _described(dataset, grant)

    @app.get("/datasets/{dataset_id}/rows", description=ROWS_DESCRIPTION)
    def get_rows(
        request: Request,
        dataset_id: str,
        consumer: Caller,
        sort: Annotated[str | None, Query(description="cột sắp xếp, `-cột` giảm dần, cách nhau bởi dấu phẩy")] = None,
        limit: Annotated[str | None, Query(description=f"số dòng mỗi trang (100, tối đa {settings.max_rows})")] = None,
        offset: Annotated[str | None, Query(description="bỏ qua bao nhiêu dòng (trang sau: `next_offset`)")] = None,
        format: Annotated[str | None, Query(description="json (mặc định), csv hoặc parquet")] = None,
    ) -> Response:
        entry = request.state.entry
        with service.shared.reading() as (shared, cursor):
            dataset, grant = _readable(request, dataset_id, shared, consumer)
            try:
                page = build_page(dataset, grant, request.query_params.multi_items(), settings.max_rows)
            except QueryError as error:
                raise _refuse(request, 400, redacted(str(error))) from None
            except PermissionError:
                log.error("consumer %s: grant of %s names a column the dataset lacks", consumer.id, dataset.id)
                raise _refuse(request, 403, "Quyền của tài khoản với tập dữ liệu này đang cấu hình sai") from None
            try:
                if dataset.access == "open":
                    with service.open_data.reading() as con:
                        table = run(con, page, settings.timeout_seconds)
                else:
                    table = run(cursor, page, settings.timeout_seconds)
            except QueryTimeout as error:
                raise _refuse(request, 504, str(error)) from None
        more = table.num_rows > page.limit
        table = table.slice(0, page.limit)
        entry["rows"] = table.num_rows
        pseudonym_columns = [c for c in dataset.pseudonym_columns if c in page.columns]
        if pseudonym_columns:
            entry["pseudonyms"] = sorted(
                {v for c in pseudonym_columns for v in table.column(c).to_pylist() if v is not None}
            )
        next_offset = page.offset + page.limit if more else None
        return _response(dataset, page.format, table, page.offset, page.limit, next_offset)

    @app.get("/receipts")
    def list_receipts(request: Request, consumer: Caller) -> dict:
        """The receipts and rejection reports of the caller's department, newest first."""
        department = _department(request, consumer)
        files = listed(DepartmentPaths.of(settings.lake).department_outbox(department.agency))
        request.state.entry["rows"] = len(files)
        return {"department": department.agency, "receipts": files}

    @app.get("/receipts/{source}/{name}")
    def get_receipt(request: Request, source: str, name: str, consumer: Caller) -> Response:
        department = _department(request, consumer)
        path = find(DepartmentPaths.of(settings.lake).department_outbox(department.agency), source, name)
        if path is None:
            raise _refuse(request, 404, "Không có biên nhận này trong hộp thư của đơn vị")
        request.state.entry["rows"] = 1
        return Response(
            path.read_bytes(),
            media_type=RECEIPT_MEDIA[path.suffix],
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(path.name)}"},
        )

    return app


def _json_value(value):
    """What DuckDB returns besides JSON's own types (FastAPI's jsonable_encoder does the same, ten times slower)."""
    if isinstance(value, date | datetime | dt_time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value.as_tuple().exponent >= 0 else float(value)
    return str(value)


def _response(dataset: Dataset, fmt: str, table: pa.Table, offset: int, limit: int, next_offset: int | None):
    headers = {"X-Next-Offset": str(next_offset)} if next_offset is not None else {}
    if fmt == "json":
        body = {
            "dataset": dataset.id,
            "columns": table.column_names,
            "count": table.num_rows,
            "offset": offset,
            "limit": limit,
            "next_offset": next_offset,
            "rows": table.to_pylist(),
        }
        content = json.dumps(body, ensure_ascii=False, default=_json_value).encode("utf-8")
        return Response(content, media_type="application/json", headers=headers)
    buffer = io.BytesIO()
    if fmt == "csv":
        pa_csv.write_csv(table, buffer)
    else:
        pq.write_table(table, buffer, compression="zstd")
    filename = f"{dataset.id}.{fmt}"
    headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return Response(buffer.getvalue(), media_type=MEDIA[fmt], headers=headers)
