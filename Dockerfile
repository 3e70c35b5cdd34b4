# syntax=docker/dockerfile:1
#
# One image for every Jalon process: the six HTTP services, the scheduler workers and the one-shot
# `jalon migrate` / `jalon streams`. Pick the service with SERVICE (and optionally PORT; it defaults
# to the service's port in shared/runtime/topology.py), or override the command as
# docker-compose.yml and deploy/k8s/ do.
#
#   docker build -t jalon .
#   docker run -e SERVICE=mrp -e JALON_DATABASE_URL=... -e JALON_NATS_URL=... -p 8003:8003 jalon

ARG PYTHON_IMAGE=python:3.11-slim

# -- build: a virtualenv holding the dependencies, then the project itself ----------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src

# Dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml README.md ./
RUN --mount=type=cache,target=/root/.cache/pip \
    python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# Then the sources (every code change rebuilds only this cheap layer).
COPY shared ./shared
COPY services ./services
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install --no-deps . \
    && jalon --help > /dev/null

# -- runtime: the virtualenv and an unprivileged user, nothing else ------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# A font, so that charts rendered to PNG (load charts, Gantt) carry their text.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 jalon \
    && useradd --system --uid 10001 --gid jalon --home-dir /home/jalon --create-home \
        --shell /usr/sbin/nologin jalon
COPY --from=build /opt/venv /opt/venv

# JALON_HOME: the CLI's state folder; /tmp stays writable with a read-only root filesystem.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    JALON_HOME=/tmp/jalon \
    SERVICE=gateway

USER 10001:10001
WORKDIR /home/jalon
EXPOSE 8000 8001 8002 8003 8004 8005

# exec: uvicorn is PID 1 and receives SIGTERM for a graceful shutdown.
CMD ["sh", "-c", "exec uvicorn --factory \"services.${SERVICE}.app:create_app\" --host 0.0.0.0 --port \"${PORT:-$(python -c 'import os; from shared.runtime.topology import spec; print(spec(os.environ[\"SERVICE\"]).default_port)')}\" --no-access-log --timeout-graceful-shutdown 10"]
