import pytest

from openclaw_web.tasks import health_check_task

pytestmark = pytest.mark.worker


def test_a_task_round_trips_through_redis_to_a_real_worker(celery_worker):
    result = health_check_task.delay()

    answer = result.get(timeout=60)

    assert answer["worker"]
    assert f"Task openclaw_web.tasks.health_check_task[{result.id}] received" in celery_worker.log()
