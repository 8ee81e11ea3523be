# cs-connector: the scheduled worker, with /healthz and /metrics on port 9108.
#
#   docker build -t cs-connector .
#   docker run --rm cs-connector --help
#
# The image holds the package (with the SFDX metadata and default mappings built into the
# wheel) plus mappings/ and jobs/ in /app, the working directory: config.toml, mappings/ and
# jobs/ are read from there, so mount your own over them (read-only). See docs/deploy.md and
# compose.yaml for a production-like run with PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# setup.py copies salesforce/, mappings/ and jobs/ into the wheel, so the build needs them.
COPY . /src
RUN pip install "/src[postgres]" \
    && rm -rf /src

# An unprivileged user with a fixed uid, so host files (the JWT key, chmod 600) can be
# chowned to it: chown 10001 salesforce-jwt.key.
RUN groupadd --system --gid 10001 cs \
    && useradd --system --uid 10001 --gid cs --home-dir /app --shell /usr/sbin/nologin cs \
    && mkdir -p /app/.cs-connector \
    && chown cs:cs /app /app/.cs-connector

WORKDIR /app
COPY --chown=cs:cs mappings/ /app/mappings/
COPY --chown=cs:cs jobs/ /app/jobs/
COPY --chown=cs:cs config.example.toml /app/config.example.toml

USER cs
EXPOSE 9108

# /healthz answers 503 until the first cycle has completed (and when the last one failed or is
# overdue); urlopen raises on a non-2xx answer, so the check fails then. The long start period
# covers an initial load.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30m --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=8)"]

ENTRYPOINT ["cs-connector"]
CMD ["run", "--http", "0.0.0.0:9108"]
