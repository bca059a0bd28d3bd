-- CreateIndex
CREATE INDEX "jobs_ended_at_idx" ON "jobs"("ended_at");

-- CreateIndex
CREATE INDEX "tasks_job_id_ended_at_idx" ON "tasks"("job_id", "ended_at");
