// An HrFlow-style Catch workflow for "Acme ATS", which posts its job and application objects
// with HrFlow's field names. Verified by a shared key of its own header.
export function verify(request, settings) {
  return request.headers['x-acme-key'] === settings.key;
}

function handle(request, settings) {
  const b = request.body;
  console.log('acme sent', Object.keys(b).join(','), 'from', b.candidate_email || 'nobody');
  if (b.application_reference) {
    return {
      events: [{
        type: 'application_changed',
        id: 'app-' + b.application_reference + '@' + b.occurred_at,
        occurred_at: b.occurred_at,
        ats_application_id: b.application_reference,
        ats_job_id: b.job_reference,
        job_title: b.job_name,
        step: b.step,
        candidate: {
          ats_candidate_id: b.candidate_reference,
          first_name: b.candidate_first_name,
          last_name: b.candidate_last_name,
          email: b.candidate_email,
        },
      }],
      response: { status: 200, body: { received: b.application_reference }, headers: { 'x-acme': 'ok' } },
    };
  }
  if (b.job_reference && b.job_name) {
    return [{
      type: 'job_upserted',
      ats_job_id: b.job_reference,
      title: b.job_name,
      description: b.job_summary,
      location: b.job_address,
      url: b.job_url,
      starts_on: b.job_start,
      ends_on: b.job_end,
    }];
  }
  if (b.job_reference && b.status === 'closed') {
    return [{ type: 'job_closed', ats_job_id: b.job_reference }];
  }
  if (b.misspelt) {
    return [{ type: 'job_upserted', ats_job_id: 'x', titel: 'typo' }];
  }
  if (b.loop) {
    for (;;) {}
  }
  throw new Error('unknown Acme payload: ' + Object.keys(b).join(','));
}

export { handle as catch };
