#pragma once
/// SmallVector<T, N>: a std::vector of trivially copyable T that keeps up to N elements inside the
/// object, with no heap allocation. Shapes and strides are SmallVectors (core/shape.h): every
/// tensor has both, and two heap allocations per tensor were a fifth of a small op's time. It has
/// std::vector's interface (what nudge and its users call on a shape) and converts to and from
/// std::vector<T>, so code written for vectors keeps working.
#include <algorithm>
#include <compare>
#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace nudge {

template <class T, std::size_t N> class SmallVector {
  static_assert(std::is_trivially_copyable_v<T> && N > 0);

 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  SmallVector() noexcept = default;
  explicit SmallVector(size_type n) { resize(n); }
  SmallVector(size_type n, const T& value) { assign(n, value); }
  SmallVector(std::initializer_list<T> values) { assign(values.begin(), values.end()); }
  template <class It, class = std::enable_if_t<!std::is_integral_v<It>>> SmallVector(It first, It last) {
    assign(first, last);
  }
  SmallVector(const std::vector<T>& values) { assign(values.begin(), values.end()); }  // NOLINT: as a vector
  SmallVector(const SmallVector& other) { copy_from(other); }
  SmallVector(SmallVector&& other) noexcept { take(other); }
  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) {
      clear();
      copy_from(other);
    }
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  SmallVector& operator=(std::initializer_list<T> values) {
    assign(values.begin(), values.end());
    return *this;
  }
  ~SmallVector() { release(); }

  operator std::vector<T>() const { return std::vector<T>(begin(), end()); }  // NOLINT: as a vector

  size_type size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_type capacity() const noexcept { return heap_ ? capacity_ : N; }
  T* data() noexcept { return heap_ ? heap_ : inline_; }
  const T* data() const noexcept { return heap_ ? heap_ : inline_; }

  iterator begin() noexcept { return data(); }
  iterator end() noexcept { return data() + size_; }
  const_iterator begin() const noexcept { return data(); }
  const_iterator end() const noexcept { return data() + size_; }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }

  T& operator[](size_type i) noexcept { return data()[i]; }
  const T& operator[](size_type i) const noexcept { return data()[i]; }
  T& at(size_type i) {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return data()[i];
  }
  const T& at(size_type i) const {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return data()[i];
  }
  T& front() noexcept { return data()[0]; }
  const T& front() const noexcept { return data()[0]; }
  T& back() noexcept { return data()[size_ - 1]; }
  const T& back() const noexcept { return data()[size_ - 1]; }

  void reserve(size_type n) {
    if (n <= capacity()) return;
    T* grown = static_cast<T*>(::operator new(n * sizeof(T)));
    if (size_) std::memcpy(grown, data(), size_ * sizeof(T));
    release();
    heap_ = grown;
    capacity_ = n;
  }
  void clear() noexcept { size_ = 0; }
  void resize(size_type n) { resize(n, T()); }
  void resize(size_type n, const T& value) {
    if (n > size_) {
      reserve(std::max(n, 2 * size_));
      std::fill(data() + size_, data() + n, value);
    }
    size_ = n;
  }
  void assign(size_type n, const T& value) {
    clear();
    resize(n, value);
  }
  template <class It, class = std::enable_if_t<!std::is_integral_v<It>>> void assign(It first, It last) {
    SmallVector fresh;  // built aside: the range may be inside this vector
    if constexpr (std::is_base_of_v<std::forward_iterator_tag, typename std::iterator_traits<It>::iterator_category>) {
      const auto n = static_cast<size_type>(std::distance(first, last));
      fresh.reserve(n);
      std::copy(first, last, fresh.data());
      fresh.size_ = n;
    } else {
      for (; first != last; ++first) fresh.push_back(static_cast<T>(*first));
    }
    *this = std::move(fresh);
  }
  void assign(std::initializer_list<T> values) { assign(values.begin(), values.end()); }

  void push_back(const T& value) {
    const T copy = value;  // `value` may live in this vector, which reserve() may move
    if (size_ == capacity()) reserve(2 * capacity());
    data()[size_++] = copy;
  }
  T& emplace_back(const T& value) {
    push_back(value);
    return back();
  }
  void pop_back() noexcept { --size_; }

  iterator insert(const_iterator pos, const T& value) { return insert(pos, size_type{1}, value); }
  iterator insert(const_iterator pos, size_type n, const T& value) {
    const T copy = value;
    const size_type at = static_cast<size_type>(pos - begin());
    if (size_ + n > capacity()) reserve(std::max(size_ + n, 2 * capacity()));
    std::memmove(data() + at + n, data() + at, (size_ - at) * sizeof(T));
    std::fill(data() + at, data() + at + n, copy);
    size_ += n;
    return data() + at;
  }
  template <class It, class = std::enable_if_t<!std::is_integral_v<It>>>
  iterator insert(const_iterator pos, It first, It last) {
    const std::vector<T> values(first, last);  // staged: the range may be inside this vector
    const size_type at = static_cast<size_type>(pos - begin()), n = values.size();
    if (size_ + n > capacity()) reserve(std::max(size_ + n, 2 * capacity()));
    std::memmove(data() + at + n, data() + at, (size_ - at) * sizeof(T));
    std::copy(values.begin(), values.end(), data() + at);
    size_ += n;
    return data() + at;
  }
  iterator insert(const_iterator pos, std::initializer_list<T> values) {
    return insert(pos, values.begin(), values.end());
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const size_type at = static_cast<size_type>(first - begin()), n = static_cast<size_type>(last - first);
    std::memmove(data() + at, data() + at + n, (size_ - at - n) * sizeof(T));
    size_ -= n;
    return data() + at;
  }
  void swap(SmallVector& other) noexcept {
    SmallVector tmp(std::move(other));
    other = std::move(*this);
    *this = std::move(tmp);
  }

  friend bool operator==(const SmallVector& a, const SmallVector& b) {
    if (a.size_ != b.size_) return false;
    // A plain loop: std::equal becomes a call to memcmp, slower than comparing a few shape dims.
    const T *x = a.data(), *y = b.data();
    for (size_type i = 0; i < a.size_; ++i)
      if (!(x[i] == y[i])) return false;
    return true;
  }
  friend auto operator<=>(const SmallVector& a, const SmallVector& b) {
    return std::lexicographical_compare_three_way(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  void release() noexcept {
    if (heap_) ::operator delete(heap_);
    heap_ = nullptr;
    capacity_ = N;
  }
  /// Takes other's elements (its heap block, or a copy of its inline ones) and empties it.
  void take(SmallVector& other) noexcept {
    if (other.heap_) {
      heap_ = other.heap_;
      capacity_ = other.capacity_;
      other.heap_ = nullptr;
      other.capacity_ = N;
    } else {
      std::memcpy(inline_, other.inline_, sizeof(inline_));  // a fixed size: a few moves, no call
    }
    size_ = other.size_;
    other.size_ = 0;
  }
  /// Copies other's elements into this empty vector.
  void copy_from(const SmallVector& other) {
    if (!heap_ && !other.heap_) {
      std::memcpy(inline_, other.inline_, sizeof(inline_));  // a fixed size: a few moves, no call
    } else {
      reserve(other.size_);
      std::memcpy(data(), other.data(), other.size_ * sizeof(T));
    }
    size_ = other.size_;
  }

  T* heap_ = nullptr;
  size_type size_ = 0;
  size_type capacity_ = N;
  // Left uninitialised (zeroing it on every construction costs more than a small op's arithmetic);
  // copies move the whole buffer with memcpy, which may copy indeterminate bytes of a trivially
  // copyable T.
  T inline_[N];
};

}  // namespace nudge
