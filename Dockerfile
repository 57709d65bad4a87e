FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/tenantry

COPY requirements-service.txt .
# The service's pinned requirements only: no in-memory store, no test tools.
RUN pip install -r requirements-service.txt

COPY pyproject.toml main.py ./
COPY app ./app
# The package itself, for the `tenantry` operator command (its requirements are in already).
RUN pip install --no-deps . && rm -rf build ./*.egg-info
COPY docker/entrypoint.sh /usr/local/bin/tenantry-entrypoint

# A numeric user, so that Kubernetes' runAsNonRoot can verify it is not root. /data holds the
# signing key the entry point creates; a named volume mounted there starts with this owner.
RUN chmod 755 /usr/local/bin/tenantry-entrypoint \
    && groupadd --system --gid 10001 tenantry \
    && useradd --system --uid 10001 --gid 10001 --no-create-home tenantry \
    && mkdir /data && chown 10001:10001 /data && chmod 700 /data
USER 10001:10001

ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000

# Readiness, not liveness alone: /ready also pings MongoDB (2 s at most). PORT is read when
# the check runs, so a container started with another PORT is probed where it listens.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ready' % os.environ.get('PORT', '8000'), timeout=4)"]

ENTRYPOINT ["tenantry-entrypoint"]
CMD ["python", "main.py"]
