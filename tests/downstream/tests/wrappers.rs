use rawpoll::{
    epoll_create1, epoll_ctl, epoll_pwait, eventfd, eventfd_read, eventfd_write, EpollEvent,
    EFD_CLOEXEC, EFD_NONBLOCK, EPOLLIN, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
};

#[test]
fn eventfd_through_epoll() {
    let epfd = epoll_create1(EPOLL_CLOEXEC).unwrap();
    let efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK).unwrap();
    epoll_ctl(
        &epfd,
        EPOLL_CTL_ADD,
        &efd,
        Some(&EpollEvent::new(EPOLLIN, 7)),
    )
    .unwrap();

    let mut events = [EpollEvent::zeroed(); 4];
    assert_eq!(epoll_pwait(&epfd, &mut events, 0).unwrap(), 0);

    eventfd_write(&efd, 3).unwrap();
    eventfd_write(&efd, 4).unwrap();
    assert_eq!(epoll_pwait(&epfd, &mut events, 1000).unwrap(), 1);
    assert_eq!(events[0].data(), 7);
    assert_ne!(events[0].events() & EPOLLIN, 0);
    assert_eq!(eventfd_read(&efd).unwrap(), 7);

    epoll_ctl(&epfd, EPOLL_CTL_DEL, &efd, None).unwrap();
    eventfd_write(&efd, 1).unwrap();
    assert_eq!(epoll_pwait(&epfd, &mut events, 0).unwrap(), 0);
}
