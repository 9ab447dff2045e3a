FROM python:3.11-slim-bookworm
# WeasyPrint needs Pango; fonts for PDFs. The 1Password CLI `op` is installed by the operator
# (mount it at /usr/local/bin/op or extend this image) — its licence does not allow redistribution.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements/ requirements/
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements/base.lock
COPY . .
RUN DJANGO_SETTINGS_MODULE=openclaw_web.settings SECRET_KEY=build FINGERPRINT_KEY=build AUDIT_KEY=build python manage.py collectstatic --noinput
# /data/anchors: the audit chain anchor file (AUDIT_ANCHOR_FILE), on a volume of its own in docker-compose.yml.
RUN useradd --create-home openclaw && mkdir -p /data/artifacts /data/anchors && chown openclaw /data/artifacts /data/anchors \
    && chmod 700 /data/anchors
USER openclaw
