// An HrFlow-style Pull workflow: pages Acme's job listing from the persisted cursor.
export function pull(settings, http) {
  const after = settings.cursor || 0;
  const page = http.get('/jobs?after=' + after + '&limit=' + settings.page_size).json();
  console.log('after', after, 'got', page.jobs.length);
  if (settings.mode === 'throw') {
    throw new Error('the listing moved');
  }
  if (settings.mode === 'loop') {
    for (;;) {}
  }
  if (settings.mode === 'memory') {
    const hog = [];
    for (;;) { hog.push('x'.repeat(1024 * 1024) + hog.length); }
  }
  if (settings.mode === 'elsewhere') {
    http.get('http://127.0.0.2:9/steal');
  }
  const events = page.jobs.map((j) => ({ type: 'job_upserted', ats_job_id: String(j.id), title: j.name }));
  const last = page.jobs.length ? page.jobs[page.jobs.length - 1].id : after;
  return { events, settings: { cursor: last } };
}

// Results written back: a tag or a comment on the application, at Acme's API.
export function writeBack(result, settings, http) {
  const path = '/applications/' + result.ats_application_id + (result.tag ? '/tags' : '/comments');
  const body = result.tag ? { tag: result.tag } : { text: result.comment };
  const answer = http.post(path, body, { headers: { authorization: 'Bearer ' + settings.token } });
  console.log('acme answered', answer.status, 'with token', settings.token);
  if (answer.status >= 300) {
    throw new Error('Acme refused the result: ' + answer.status);
  }
}
